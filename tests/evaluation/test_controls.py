"""Controls: the oracle scores near 1, random near the floor; checks.json states the checks."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from evaluation_helpers import scores

from cinexai.evaluation.controls import INPUT_MAPS, control_checks
from cinexai.io import read_metadata, read_table
from cinexai.leads import LEADS


def test_oracle_scores_near_one_and_random_near_floor(grid):
    tmp, _ = grid
    for source in ("ecg12", "cineecg", "mapped"):
        for post in ("positive", "absolute", "scaled"):
            assert scores(tmp, source, "oracle", post).dice.mean() > 0.95
        rnd = scores(tmp, source, "random", "absolute")
        assert abs(rnd.dice.mean() - rnd.floor_dice.mean()) < 0.12
    oracle_attr = read_table(
        tmp / "attributions/source=ecg12/arch=resnet/method=oracle/part-0.parquet"
    )
    assert set(oracle_attr.channel) == set(LEADS)
    meta = read_metadata(tmp / "attributions/source=ecg12/arch=resnet/method=oracle/part-0.parquet")
    assert meta["registered_method"] == "oracle" and meta["seed"] == 0


def test_checks_json(grid):
    tmp, _ = grid
    checks = json.loads((tmp / "tables/checks.json").read_text())
    for key in (
        "best_beats_random",
        "best_beats_floor",
        "randomized_toward_floor",
        "oracle_near_one",
    ):
        assert checks[key] is True, key
    assert set(checks["per_target"]) == {"CineECG Signal", "12-Lead Signal"}
    for target in checks["per_target"].values():
        for name, share in target["randomized_gap_share"].items():
            assert share == pytest.approx(target["randomized_gap"][name] / target["best_gap"])
            assert share < 1  # the same statement as randomized_toward_floor


def _control_frames(map_high: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """table1 and controls frames of one target: best Dice 0.6 (0.55-0.65), floor 0.4."""
    table1 = pd.DataFrame(
        [
            {
                "modality": "12-Lead Signal",
                "n": 10,
                "dice": 0.6,
                "dice_low": 0.55,
                "floor_dice": 0.4,
                "deletion_auc": 0.3,
            }
        ]
    )
    rows = []
    for control, dice, high in (
        ("random", 0.41, 0.45),
        ("integrated_gradients_model_randomized", 0.45, 0.5),
        ("input_amplitude", map_high - 0.03, map_high),
        ("input_deviation", 0.45, 0.5),
    ):
        for selection in ("own best", "best configuration's post-processing"):
            rows.append(
                {
                    "modality": "12-Lead Signal",
                    "control": control,
                    "selection": selection,
                    "n": 10,
                    "dice": dice,
                    "dice_low": dice - 0.03,
                    "dice_high": high,
                    "floor_dice": 0.4,
                    "deletion_auc": 0.5,
                }
            )
    return table1, pd.DataFrame(rows)


@pytest.mark.parametrize("map_high, beaten", [(0.5, True), (0.58, False)])
def test_input_maps_are_checked_like_random_not_as_randomised(map_high, beaten):
    table1, controls = _control_frames(map_high)
    names = ["random", "oracle", "integrated_gradients_model_randomized", *INPUT_MAPS]
    checks = control_checks(table1, controls, names, {"oracle_min_dice": 0.9})
    target = checks["per_target"]["12-Lead Signal"]
    assert checks["best_beats_input_maps"] is beaten
    assert target["input_map_dice_high"] == {"input_amplitude": map_high, "input_deviation": 0.5}
    assert set(target["randomized_gap"]) == {"integrated_gradients_model_randomized"}
    assert checks["best_beats_random"] is True
    assert target["best_deletes_faster_than_random"] is True  # the faithfulness check beside them
