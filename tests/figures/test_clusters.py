"""Latent-cluster figures: bands per run of a cluster, an uncertainty strip per lead, heat map."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image

from cinexai.clusters.landmarks import WAVES
from cinexai.figures import clusters


def test_runs_split_labels_where_they_change() -> None:
    assert clusters._runs(np.array([2, 2, 0, 0, 0, 1])) == [(0, 2, 2), (2, 5, 0), (5, 6, 1)]


def test_case_figure_has_a_row_and_strip_per_lead(tmp_path) -> None:
    t = 200
    labels = np.repeat([0, 1, 2, 1], t // 4)
    out = tmp_path / "case.png"
    x = np.sin(np.linspace(0, 6, t))[None, :].repeat(12, 0)
    clusters.plot_case(
        x, [f"L{i}" for i in range(12)], 500.0, labels, np.linspace(0, 1, t), 3, "case 1", out
    )
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape[0] > image.shape[1]  # 12 leads stacked
    assert image.std() > 10  # coloured bands, traces and strips, not a blank canvas


def test_contingency_heat_map(tmp_path) -> None:
    rows = [
        {"cluster": k, "wave": w, "count": (k + 1) * (w == "QRS"), "mean_uncertainty": 0.1}
        for k in range(3)
        for w in WAVES
    ]
    out = tmp_path / "heat.png"
    clusters.plot_contingency(pd.DataFrame(rows), "K=3", out)
    assert Image.open(out).size[0] > 100
