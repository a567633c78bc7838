"""Replicates: seeds derived from the config seed, and the spread of the headline figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cinexai.evaluation.replicates import replicate_seed, replicate_table, spread


def test_replicate_zero_is_the_run_itself_and_the_others_get_distinct_stable_seeds() -> None:
    assert replicate_seed(0, 0) == 0 and replicate_seed(17, 0) == 17
    seeds = [replicate_seed(0, r) for r in range(1, 50)]
    assert len(set(seeds)) == len(seeds) and all(0 <= s < 2**31 for s in seeds)
    assert seeds[:3] == [replicate_seed(0, r) for r in (1, 2, 3)]  # a pure function
    assert replicate_seed(0, 1) not in (1, replicate_seed(1, 1))  # not seed + r, seed matters
    assert replicate_seed(0, 2) != replicate_seed(1, 1)
    with pytest.raises(ValueError, match="replicate must be >= 0"):
        replicate_seed(0, -1)


def _table1(dice_cine, dice_12, method_12="integrated_gradients"):
    return pd.DataFrame(
        {
            "table": "table1",
            "modality": ["CineECG", "12-Lead Signal"],
            "dice": [dice_cine, dice_12],
            "source": ["mapped", "ecg12"],
            "arch": ["resnet", "imn"],
            "method": ["gradient_shap", method_12],
            "postprocessing": ["absolute", "positive"],
        }
    )


def _controls(random_dice):
    return pd.DataFrame(
        {
            "modality": ["12-Lead Signal"] * 3,
            "control": ["best", "random", "random"],
            "selection": ["optimisation pool", "best configuration's post-processing", "own best"],
            "dice": [0.9, random_dice, random_dice + 0.01],
            "source": ["ecg12"] * 3,
            "arch": ["imn", "imn", "resnet"],
            "method": ["integrated_gradients", "random", "random"],
            "postprocessing": ["positive", "positive", "scaled"],
        }
    )


def _classifier(auroc, accuracy=0.8):
    return pd.DataFrame(
        {
            "modality": ["ecg12", "cineecg"],
            "arch": ["resnet", "resnet"],
            "n_test": [20, 20],
            "accuracy": [accuracy, 0.7],
            "auroc": [auroc, np.nan],
        }
    )


def _write(tmp_path, r, table1, controls, classifier):
    paths = []
    for name, frame in (("table1", table1), ("controls", controls), ("classifier", classifier)):
        path = tmp_path / f"r{r}" / f"{name}.csv"
        path.parent.mkdir(exist_ok=True)
        frame.to_csv(path, index=False)
        paths.append(path)
    return paths


def test_spread_per_headline_figure_with_each_replicates_pick(tmp_path) -> None:
    reps = [
        _write(tmp_path, 0, _table1(0.50, 0.60), _controls(0.30), _classifier(0.90)),
        _write(tmp_path, 1, _table1(0.54, 0.64, "lime"), _controls(0.32), _classifier(0.80)),
        _write(tmp_path, 2, _table1(0.58, 0.62), _controls(0.34), _classifier(0.85)),
    ]
    seeds = [0, 11, 22]
    table = replicate_table(
        table1=[r[0] for r in reps],
        controls=[r[1] for r in reps],
        classifier=[r[2] for r in reps],
        seeds=seeds,
        out_csv=tmp_path / "replicates.csv",
        out_md=tmp_path / "replicates.md",
    )
    assert list(table["table"]) == ["table1"] * 2 + ["controls"] * 2 + ["classifier"] * 4
    cine = table.iloc[0]
    assert (cine["modality"], cine["entry"], cine["metric"]) == ("CineECG", "best", "dice")
    assert [cine[f"r{i}"] for i in range(3)] == pytest.approx([0.50, 0.54, 0.58])
    assert cine["mean"] == pytest.approx(0.54) and cine["sd"] == pytest.approx(0.04)
    assert (cine["min"], cine["max"], cine["n"]) == pytest.approx((0.50, 0.58, 3))
    assert not cine["configuration_changed"]
    twelve = table.iloc[1]
    assert twelve["configuration_changed"]
    assert twelve["configuration_r1"] == "lime / positive / ecg12 / imn"
    assert twelve["configuration_r0"] == "integrated_gradients / positive / ecg12 / imn"
    # the controls table's "best" row is Table 1's: only the controls themselves, both selections
    assert list(table.loc[table["table"] == "controls", "entry"]) == [
        "random (best configuration's post-processing)",
        "random (own best)",
    ]
    auroc = table[(table["table"] == "classifier") & (table["metric"] == "auroc")]
    assert list(auroc["entry"]) == ["resnet", "resnet"]
    assert auroc.iloc[0]["mean"] == pytest.approx(0.85)
    # undefined in every replicate: n = 0 and no statistic
    assert auroc.iloc[1]["n"] == 0 and np.isnan(auroc.iloc[1]["mean"])
    written = pd.read_csv(tmp_path / "replicates.csv")
    assert written.shape == table.shape
    md = (tmp_path / "replicates.md").read_text()
    assert "r0: 0, r1: 11, r2: 22" in md
    assert "r1: lime / positive / ecg12 / imn" in md  # the changing pick is spelled out
    assert "| table1 | CineECG | best | dice | 0.500 | 0.540 | 0.580 | 0.540 | 0.040 |" in md


def test_a_figure_missing_in_one_replicate_is_missing_there_not_dropped() -> None:
    row = {"table": "controls", "modality": "CineECG", "metric": "dice", "configuration": "c"}
    a = pd.DataFrame([{**row, "entry": "random (own best)", "value": 0.3}])
    b = pd.DataFrame(
        [{**row, "entry": "random (own best)", "value": 0.5}, {**row, "entry": "x", "value": 0.1}]
    )
    table = spread([a, b], [0, 1])
    assert list(table["entry"]) == ["random (own best)", "x"]
    assert table.iloc[1]["n"] == 1 and np.isnan(table.iloc[1]["r0"])
    assert table.iloc[1]["mean"] == pytest.approx(0.1) and np.isnan(table.iloc[1]["sd"])


def test_mismatched_inputs_are_rejected_naming_the_counts(tmp_path) -> None:
    with pytest.raises(ValueError, match="at least 2 replicates"):
        spread([pd.DataFrame()], [0])
    with pytest.raises(ValueError, match="got 1, 1, 1 files and 2 seeds"):
        replicate_table(
            table1=["a"],
            controls=["b"],
            classifier=["c"],
            seeds=[0, 1],
            out_csv=tmp_path / "x.csv",
            out_md=tmp_path / "x.md",
        )
