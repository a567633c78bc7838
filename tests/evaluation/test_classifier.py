"""The classifier table: accuracy, macro-F1 and AUROC with BCa intervals per (modality, arch)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from cinexai.evaluation.classifier import classifier_table
from cinexai.io import write_table


def _predictions(path, seed, skill):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 120)
    prob = np.clip(0.5 + skill * (y - 0.5) + rng.normal(0, 0.25, 120), 0, 1)
    frame = pd.DataFrame(
        {
            "id": np.arange(130),
            "split": ["test"] * 120 + ["evaluation"] * 10,
            "label": np.r_[y, np.zeros(10, int)].astype(np.int8),
            "prob_abnormal": np.r_[prob, np.ones(10)].astype(np.float32),
            "pred": np.r_[(prob > 0.5), np.ones(10, bool)].astype(np.int8),
        }
    )
    write_table(frame, path)
    return frame[frame.split == "test"]


def test_rows_match_sklearn_with_bca_intervals(tmp_path):
    paths, tests = [], {}
    for modality, arch, skill in (("ecg12", "resnet", 0.6), ("ecg12", "imn", 0.3)):
        path = tmp_path / "models" / modality / arch / "predictions.parquet"
        tests[(modality, arch)] = _predictions(path, len(paths), skill)
        paths.append(path)
    classifier_table(
        predictions=paths,
        out_md=tmp_path / "classifier.md",
        out_csv=tmp_path / "classifier.csv",
        n_resamples=300,
        confidence=0.95,
        seed=0,
    )
    table = pd.read_csv(tmp_path / "classifier.csv").set_index(["modality", "arch"])
    assert list(table.index) == [("ecg12", "resnet"), ("ecg12", "imn")]
    for key, test in tests.items():
        row = table.loc[key]
        y, prob, pred = test.label, test.prob_abnormal, test.pred
        assert row.n_test == 120  # test split only
        assert np.isclose(row.accuracy, accuracy_score(y, pred))
        assert np.isclose(row.macro_f1, f1_score(y, pred, average="macro"))
        assert np.isclose(row.auroc, roc_auc_score(y, prob), atol=1e-6)
        for m in ("accuracy", "macro_f1", "auroc"):
            assert row[f"{m}_low"] < row[m] < row[f"{m}_high"]
    assert table.loc[("ecg12", "resnet"), "auroc"] > table.loc[("ecg12", "imn"), "auroc"]
    md = (tmp_path / "classifier.md").read_text()
    assert "| ecg12 | imn | 120 |" in md and "BCa" in md
