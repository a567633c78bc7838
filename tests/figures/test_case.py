"""File-level entry points: one case's four files, the summary pair, display post-processing."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from figure_data import CASE

from cinexai.cineecg.geometry import BiventricularModel
from cinexai.config import defaults
from cinexai.evaluation.postprocessing import apply
from cinexai.figures import style
from cinexai.figures.case import display_map, render_case, render_summary
from cinexai.figures.cineecg3d import CineFigureData

FAST = {
    **defaults()["figures"],
    "method": "integrated_gradients_normal_ref",
    "postprocessing": "scaled",
    "dpi": 60,
    "mesh_resolution": 10,
}


@pytest.mark.parametrize("name", ["positive", "absolute", "scaled"])
def test_display_map_matches_evaluation_on_scored_cells(name):
    rng = np.random.default_rng(1)
    phi = rng.standard_normal((12, 50))
    scored = np.zeros(12, dtype=bool)
    scored[[0, 4, 7]] = True
    for normal in (False, True):
        shown = display_map(phi, normal, name, scored)
        aligned = -phi if normal else phi
        expected = apply(name, aligned[scored].reshape(1, -1), np.ones((1, 150), bool))[0]
        np.testing.assert_allclose(shown[scored].ravel(), expected, atol=1e-12)
        assert shown.min() >= 0 and shown.max() <= 1


def test_display_map_flips_sign_for_normal_cases():
    phi = np.array([[-2.0, 0.0, 1.0]])
    ok = np.array([True])
    np.testing.assert_allclose(display_map(phi, False, "positive", ok), [[0, 0, 1]])
    np.testing.assert_allclose(display_map(phi, True, "positive", ok), [[1, 0, 0]])


def _render(results, case, out):
    render_case(
        case_id=case,
        windows=results["windows"],
        cineecg=results["cineecg"],
        attributions_root=results["attributions"],
        masks=results["masks"],
        predictions_ecg12=results["pred12"],
        predictions_cineecg=results["predcine"],
        scores_root=results["scores"],
        out_dir=out,
        cfg=FAST,
    )


def test_render_case_writes_the_four_files(results, tmp_path):
    _render(results, CASE, tmp_path / "fig")
    for name in ("ecg12.png", "ecg12.svg", "cineecg.png", "cineecg.html"):
        assert (tmp_path / "fig" / name).stat().st_size > 1000, name
    assert f"Case {CASE}" in (tmp_path / "fig" / "ecg12.svg").read_text()


def test_render_case_names_a_missing_case(results, tmp_path):
    with pytest.raises(KeyError, match="424242"):
        _render(results, 424242, tmp_path / "none")
    assert not (tmp_path / "none" / "ecg12.png").exists()


def test_render_summary(results, tmp_path):
    scores = sorted(results["scores"].glob("**/part-0.parquet"))
    sweeps = sorted(results["scores"].glob("**/sweep.parquet"))
    render_summary(
        score_files=scores,
        sweep_files=sweeps,
        out_dir=tmp_path,
        n_resamples=200,
        confidence=0.95,
        seed=0,
    )
    assert (tmp_path / "dice_by_config.png").stat().st_size > 1000
    assert (tmp_path / "threshold_curves.png").stat().st_size > 1000


def test_schema_defaults_are_the_plotting_functions_defaults():
    """render_case passes config["figures"]; the library functions' own defaults agree with it."""
    figures = defaults()["figures"]
    assert figures["dpi"] == style.DPI and figures["paper_speed_mm_s"] == style.PAPER_SPEED_MM_S
    assert figures["tick_ms"] == CineFigureData.__dataclass_fields__["tick_ms"].default
    resolution = inspect.signature(BiventricularModel.surface_mesh).parameters["resolution"]
    assert figures["mesh_resolution"] == resolution.default
