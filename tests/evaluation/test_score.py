"""The score stage on a small synthetic grid: rows, sweep, threshold modes, missing attributions."""

from __future__ import annotations

import numpy as np
import pytest
from evaluation_helpers import EVAL_CFG, N_CASES, scores

from cinexai.evaluation.score import score
from cinexai.io import read_metadata, read_table, write_table


def test_score_rows_and_columns(grid):
    tmp, _ = grid
    df = scores(tmp, "ecg12", "integrated_gradients", "absolute")
    assert len(df) == N_CASES and df.case_id.is_unique
    assert set(df.target) == {"ecg12"} and set(df.registered_method) == {"integrated_gradients"}
    assert df.threshold.nunique() == 1 and df.threshold_mode.eq("per_configuration").all()
    assert (df.dice >= 0).all() and (df.iou <= df.dice).all()
    expected_agree = df.pred.astype(bool) == (df.diagnosis == "abnormal")
    assert (df.agreement == expected_agree).all() and (~df.agreement).sum() == 3
    np.testing.assert_allclose(df.floor_dice, 2 * df.mask_share / (1 + df.mask_share))
    # ecg12 scores only the named leads: mask share over 2 leads x 200 samples
    masks = read_table(tmp / "masks.parquet")
    m = masks[(masks.modality == "ecg12") & (masks.case_id == df.case_id.iloc[0])]
    assert df.mask_share.iloc[0] == pytest.approx(m["mask"].mean())
    assert m.channel.nunique() == 2
    meta = read_metadata(
        tmp / "scores/source=ecg12/arch=resnet/method=integrated_gradients/"
        "postprocessing=absolute/part-0.parquet"
    )
    assert meta["attribution"]["registered_method"] == "integrated_gradients"
    assert "masks" in meta["inputs_sha256"]


def test_sweep_has_every_threshold_and_chosen_maximises_mean(grid):
    tmp, _ = grid
    base = tmp / "scores/source=mapped/arch=resnet/method=gradient_shap/postprocessing=scaled"
    sweep = read_table(base / "sweep.parquet")
    assert len(sweep) == N_CASES * 101
    curve = sweep.groupby("threshold")["dice"].mean()
    np.testing.assert_allclose(curve.to_numpy(), sweep.groupby("threshold")["mean_dice"].first())
    chosen = read_table(base / "part-0.parquet")
    assert chosen.threshold.iloc[0] == pytest.approx(curve.idxmax())
    assert chosen.dice.mean() == pytest.approx(curve.max())


def test_per_case_threshold_is_at_least_per_configuration(grid):
    tmp, _ = grid
    attr = tmp / "attributions/source=cineecg/arch=resnet/method=gradient_shap/part-0.parquet"
    out = tmp / "per_case"
    score(
        attributions=attr,
        masks=tmp / "masks.parquet",
        predictions=tmp / "predictions.parquet",
        out=out / "s.parquet",
        out_sweep=out / "w.parquet",
        postprocessing="absolute",
        cfg={**EVAL_CFG, "threshold": "per_case"},
    )
    per_case = read_table(out / "s.parquet")
    per_conf = scores(tmp, "cineecg", "gradient_shap", "absolute")
    assert (per_case.dice.to_numpy() >= per_conf.dice.to_numpy() - 1e-12).all()
    assert per_case.threshold.nunique() > 1


def test_annotated_case_without_attribution_raises_naming_it(grid, tmp_path):
    tmp, _ = grid
    attr = read_table(
        tmp / "attributions/source=cineecg/arch=resnet/method=gradient_shap/part-0.parquet"
    )
    path = tmp_path / "part-0.parquet"
    write_table(
        attr[attr.case_id != 4],
        path,
        {"source": "cineecg", "arch": "resnet", "method": "gradient_shap"},
    )
    with pytest.raises(ValueError, match="annotated case 4 has no attribution rows"):
        score(
            attributions=path,
            masks=tmp / "masks.parquet",
            predictions=tmp / "predictions.parquet",
            out=tmp_path / "s.parquet",
            out_sweep=tmp_path / "w.parquet",
            postprocessing="absolute",
            cfg=EVAL_CFG,
        )
    assert not (tmp_path / "s.parquet").exists()
    write_table(
        attr[~((attr.case_id == 5) & (attr.channel == "y"))],
        path,
        {"source": "cineecg", "arch": "resnet", "method": "gradient_shap"},
    )
    with pytest.raises(ValueError, match="case 5 lacks attribution for channel 'y'"):
        score(
            attributions=path,
            masks=tmp / "masks.parquet",
            predictions=tmp / "predictions.parquet",
            out=tmp_path / "s.parquet",
            out_sweep=tmp_path / "w.parquet",
            postprocessing="absolute",
            cfg=EVAL_CFG,
        )
