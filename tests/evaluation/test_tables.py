"""Tables 1-5 and controls: optimisation pool, rows, bootstrap indices, degenerate rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from evaluation_helpers import EVAL_CFG, N_CASES, make_grid, pool_best, scores
from scipy import stats

from cinexai.evaluation.bootstrap import nanmean
from cinexai.evaluation.tables import make_tables
from cinexai.io import read_metadata, read_table


def test_optimisation_pool_picks_max_mean_dice_excluding_controls(grid):
    tmp, _ = grid
    t1 = pd.read_csv(tmp / "tables/table1.csv")
    for target, label in (("cineecg", "CineECG Signal"), ("ecg12", "12-Lead Signal")):
        (source, method, post), mean = pool_best(tmp, [target], EVAL_CFG["controls"])
        row = t1[t1.modality == label].iloc[0]
        assert (row.source, row.method, row.postprocessing) == (source, method, post)
        assert row.dice == pytest.approx(mean) and row.n == N_CASES
        # with controls in the pool the oracle would have won
        assert pool_best(tmp, [target], [])[0][1] == "oracle"
        assert row.method != "oracle" and row.dice_low < row.dice < row.dice_high
        assert row.floor_dice < row.dice


def test_tables_have_expected_rows(grid):
    tmp, _ = grid
    t = {
        n: pd.read_csv(tmp / f"tables/{n}.csv")
        for n in ("table1", "table2", "table3", "table4", "table5", "controls")
    }
    assert len(t["table1"]) == 2
    assert len(t["table2"]) == 8 and set(t["table2"].condition) == {
        "Abnormal",
        "Normal",
        "Agreement",
        "Disagreement",
    }
    strata = t["table2"].groupby("modality").n.sum()
    assert (strata == 2 * N_CASES).all()
    assert sorted(t["table3"].attribution) == sorted(["Integrated Grad.", "Gradient SHAP"] * 2)
    assert list(t["table4"].attribution) == ["CineECG Attr.", "12-Lead (Mapped)", "12-Lead Attr."]
    assert (t["table4"].registered_method == "integrated_gradients").all()
    assert "integrated_gradients_model_randomized" not in set(t["table4"].method)
    assert (
        "Table 4: attribution source (Integrated Grad.)" in (tmp / "tables/table4.md").read_text()
    )
    assert len(t["table5"]) == 9 and not t["table5"].method.isin(EVAL_CFG["controls"]).any()
    ctl = t["controls"]
    assert set(ctl.control) == {"best", *EVAL_CFG["controls"]} and len(ctl) == 2 * 7
    md = (tmp / "tables/table1.md").read_text()
    assert "CineECG Signal" in md and "–" in md and "BCa" in md
    for row in t["table1"].itertuples():
        assert f"{row.dice:.2f} ({row.dice_low:.2f}–{row.dice_high:.2f})" in md


def test_table4_shows_and_names_the_configured_method(grid, tmp_path):
    _, paths = grid
    make_tables(
        scores=[p for p, _ in paths],
        sweeps=[s for _, s in paths],
        out_dir=tmp_path,
        cfg={**EVAL_CFG, "table4_method": "gradient_shap"},
        seed=0,
    )
    table4 = pd.read_csv(tmp_path / "table4.csv")
    assert (table4.registered_method == "gradient_shap").all() and len(table4) == 3
    md = (tmp_path / "table4.md").read_text()
    assert "Table 4: attribution source (Gradient SHAP)" in md and "Integrated" not in md


def test_bootstrap_indices_reproduce_table_rows(grid):
    tmp, _ = grid
    idx = read_table(tmp / "tables/bootstrap_indices.parquet")
    meta = read_metadata(tmp / "tables/bootstrap_indices.parquet")
    t2 = pd.read_csv(tmp / "tables/table2.csv")
    row = t2.iloc[0]
    sel = idx[(idx.table == "table2") & (idx.row == row.row)].sort_values("resample")
    assert len(sel) == 300 and (sel.n == row.n).all()
    cases = meta["case_ids"][f"table2/{row.row}"]
    df = scores(tmp, row.source, row.method, row.postprocessing).set_index("case_id")
    values = df.loc[cases, "dice"].to_numpy()
    dist = nanmean(values[np.stack(sel.indices.to_numpy())])
    # scipy, given the saved seed, draws exactly these resamples and yields the table's interval
    ref = stats.bootstrap(
        (values,),
        nanmean,
        n_resamples=300,
        confidence_level=0.95,
        method="BCa",
        vectorized=True,
        rng=np.random.default_rng(json.loads(sel.rng_seed.iloc[0])),
    )
    np.testing.assert_array_equal(dist, ref.bootstrap_distribution)
    assert (row.dice_low, row.dice_high) == pytest.approx(tuple(ref.confidence_interval))
    assert values.mean() == pytest.approx(row.dice)


def test_degenerate_rows_have_reasons_and_indices_of_the_other_metrics(grid):
    tmp, _ = grid
    ctl = pd.read_csv(tmp / "tables/controls.csv", keep_default_na=False, na_values=[""])
    ctl["dice_reason"] = ctl["dice_reason"].fillna("")
    assert (ctl.dice_low.isna() == (ctl.dice_reason != "")).all()
    degenerate = ctl[(ctl.dice_reason == "all values equal") & ctl.spearman_low.notna()]
    assert len(degenerate) > 0  # the oracle's Dice is exactly 1 in every case
    idx = read_table(tmp / "tables/bootstrap_indices.parquet")
    for row in degenerate.itertuples():
        assert ((idx.table == "controls") & (idx.row == row.row)).sum() == 300


@pytest.fixture(scope="module")
def two_archs(tmp_path_factory):
    """The grid on a ResNet and an IMN (its intrinsic weights align best by construction)."""
    cfg = {**EVAL_CFG, "controls": [*EVAL_CFG["controls"], "imn_weights_model_randomized"]}
    tmp, _ = make_grid(tmp_path_factory.mktemp("archs"), archs=("resnet", "imn"), cfg=cfg)
    return tmp, cfg


def test_pool_spans_architectures_and_tables_name_the_architecture(two_archs):
    tmp, _ = two_archs
    t1 = pd.read_csv(tmp / "tables/table1.csv")
    assert set(t1.arch) == {"imn"} and set(t1.registered_method) == {"imn_weights"}
    md = (tmp / "tables/table1.md").read_text()
    assert "imn_weights / " in md and " / imn |" in md
    t4 = pd.read_csv(tmp / "tables/table4.csv")
    assert sorted(zip(t4.attribution, t4.arch)) == sorted(
        (s, a)
        for s in ("CineECG Attr.", "12-Lead (Mapped)", "12-Lead Attr.")
        for a in ("imn", "resnet")
    )
    assert "architecture" in (tmp / "tables/table4.md").read_text()


def test_families_table_per_target_with_matched_controls(two_archs):
    tmp, cfg = two_archs
    fam = pd.read_csv(tmp / "tables/families.csv")
    for target in ("CineECG Signal", "12-Lead Signal"):
        rows = fam[fam.modality == target]
        best = rows[rows.entry == "best"].set_index("family")
        assert list(best.index) == ["post-hoc (imn)", "post-hoc (resnet)", "intrinsic (imn)"]
        assert best.loc["intrinsic (imn)", "registered_method"] == "imn_weights"
        assert best.loc["post-hoc (imn)", "registered_method"] == "integrated_gradients"
        assert best.loc["post-hoc (resnet)", "arch"] == "resnet"
        intrinsic = rows[rows.family == "intrinsic (imn)"].set_index("entry")
        # model-free controls and the re-initialised hypernetwork; not IG on a random ResNet
        assert set(intrinsic.index) == {"best", "random", "oracle", "imn_weights_model_randomized"}
        assert (intrinsic.drop(index="best").arch == "imn").all()
        ref = intrinsic.loc["best"]
        assert intrinsic.loc["imn_weights_model_randomized", "postprocessing"] == ref.postprocessing
        assert ref.dice_low > intrinsic.loc["imn_weights_model_randomized", "dice_high"]
        posthoc = rows[rows.family == "post-hoc (resnet)"].set_index("entry")
        assert "integrated_gradients_model_randomized" in posthoc.index
        assert "imn_weights_model_randomized" not in posthoc.index
    assert "Floor Dice" in (tmp / "tables/families.md").read_text()
