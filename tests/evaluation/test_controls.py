"""Controls: the oracle scores near 1, random near the floor; checks.json states the checks."""

from __future__ import annotations

import json

import pytest
from evaluation_helpers import scores

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
