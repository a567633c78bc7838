"""File-level entry points: one case's four files, the summary pair, display post-processing."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from figure_data import CASE
from matplotlib.image import imread

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


ROLES = {"method": ("resnet", FAST["method"]), "intrinsic": ("imn", "imn_weights")}


def _render(results, case, out, sources=("ecg12", "cineecg", "mapped"), roles=ROLES):
    """render_case with the declared inputs the case_figures rule passes."""
    attributions, scores = {}, {}
    for role, (arch, method) in roles.items():
        for source in sources:
            base = f"source={source}/arch={arch}/method={method}"
            attributions[f"{role}_{source}"] = results["attributions"] / base / "part-0.parquet"
            scores[f"{role}_{source}"] = (
                results["scores"] / base / f"postprocessing={FAST['postprocessing']}/part-0.parquet"
            )
    render_case(
        case_id=case,
        windows=results["windows"],
        cineecg=results["cineecg"],
        masks=results["masks"],
        predictions=results["predictions"],
        attributions=attributions,
        scores=scores,
        out_dir=out,
        cfg=FAST,
    )


def test_render_case_writes_the_five_files(results, tmp_path):
    _render(results, CASE, tmp_path / "fig")
    for name in ("ecg12.png", "ecg12.svg", "cineecg.png", "cineecg.html", "compare.png"):
        assert (tmp_path / "fig" / name).stat().st_size > 1000, name
    assert f"Case {CASE}" in (tmp_path / "fig" / "ecg12.svg").read_text()


@pytest.mark.parametrize(
    "sources", [("ecg12", "mapped"), ("ecg12", "cineecg")], ids=["ecg12_only", "no_mapped"]
)
def test_render_case_draws_the_sources_a_grid_has(results, tmp_path, sources):
    """models.modalities: [ecg12] and attribution.mapped: false grids draw their figures."""
    _render(results, CASE, tmp_path / "fig", sources=sources)
    for name in ("ecg12.png", "cineecg.png", "cineecg.html", "compare.png"):
        assert (tmp_path / "fig" / name).stat().st_size > 1000, name


def test_compare_figure_shows_the_intrinsic_map_beside_the_post_hoc_one(results, tmp_path):
    _render(results, CASE, tmp_path / "both")
    _render(results, CASE, tmp_path / "one", roles={"method": ROLES["method"]})
    both, one = imread(tmp_path / "both" / "compare.png"), imread(tmp_path / "one" / "compare.png")
    assert both.shape[0] > one.shape[0]  # a second row of panels: the IMN's intrinsic map


def test_display_map_uses_the_post_processing_registry(monkeypatch):
    """A new post-processing is drawn as it is scored (not re-implemented as absolute)."""
    from cinexai.evaluation import postprocessing

    def squared(phi, valid, extend=False):
        out = postprocessing.absolute(phi, valid, extend) ** 2
        return out

    monkeypatch.setitem(postprocessing.REGISTRY, "squared", squared)
    phi = np.array([[-2.0, 1.0], [0.5, 4.0]])
    shown = display_map(phi, False, "squared", np.array([True, False]))
    np.testing.assert_allclose(shown, [[1.0, 0.25], [0.0625, 1.0]])


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
