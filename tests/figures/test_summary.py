"""Summary plots: BCa intervals per configuration and threshold curves from the sweep files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from cinexai.figures.summary import (
    dice_intervals,
    plot_dice_by_config,
    plot_threshold_curves,
    threshold_curves,
)


def _scores(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for source in ("ecg12", "mapped"):
        for method, centre in (("integrated_gradients", 0.6), ("random", 0.3)):
            for pp in ("absolute", "scaled"):
                for case in range(12):
                    rows.append(
                        {
                            "case_id": case,
                            "source": source,
                            "arch": "resnet" if method == "random" else "imn",
                            "method": method,
                            "postprocessing": pp,
                            "dice": centre + 0.1 * rng.standard_normal(),
                            "floor_dice": 0.3,
                        }
                    )
    return pd.DataFrame(rows)


def test_intervals_bracket_the_group_mean():
    scores = _scores()
    table = dice_intervals(scores, n_resamples=300, confidence=0.95, seed=0)
    assert len(table) == 8
    expected = scores.groupby(["source", "method", "postprocessing"])["dice"].mean()
    got = table.set_index(["source", "method", "postprocessing"])["mean"]
    np.testing.assert_allclose(got.loc[expected.index], expected, rtol=1e-12)
    assert ((table["low"] < table["mean"]) & (table["mean"] < table["high"])).all()


def test_constant_group_gets_no_interval_but_keeps_its_mean():
    scores = _scores()
    scores.loc[scores["method"] == "random", "dice"] = 0.5
    table = dice_intervals(scores, n_resamples=300, confidence=0.95, seed=0)
    const = table[table["method"] == "random"]
    assert (const["mean"] == 0.5).all() and const["low"].isna().all()


def test_threshold_curves_average_long_per_case_sweeps():
    long = pd.DataFrame(
        {
            "source": "ecg12",
            "arch": "imn",
            "method": "m",
            "postprocessing": "absolute",
            "threshold": [0.1, 0.1, 0.2, 0.2],
            "case_id": [1, 2, 1, 2],
            "dice": [0.2, 0.4, 0.6, 1.0],
        }
    )
    curves = threshold_curves(long)
    np.testing.assert_allclose(curves["mean_dice"], [0.3, 0.8])
    with pytest.raises(KeyError, match="threshold"):
        threshold_curves(long.drop(columns="threshold"))


def test_plots_are_written(tmp_path):
    plot_dice_by_config(_scores(), tmp_path / "d.png", n_resamples=200, confidence=0.95, seed=0)
    sweep = pd.DataFrame(
        {
            "source": "mapped",
            "arch": "resnet",
            "method": "m",
            "postprocessing": "scaled",
            "threshold": np.linspace(0, 1, 11),
            "mean_dice": np.linspace(0.3, 0.6, 11),
        }
    )
    plot_threshold_curves(sweep, tmp_path / "t.png")
    for name in ("d.png", "t.png"):
        img = imread(tmp_path / name)
        assert img.shape[0] > 100 and img[..., :3].std() > 0.05
