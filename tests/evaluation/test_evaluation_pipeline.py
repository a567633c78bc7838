"""score -> tables on a small synthetic cohort: oracle, random, optimisation pool, outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cinexai.evaluation.annotations import build_masks
from cinexai.evaluation.bootstrap import nanmean
from cinexai.evaluation.controls import oracle
from cinexai.evaluation.score import score
from cinexai.evaluation.tables import make_tables
from cinexai.io import read_metadata, read_table, write_table
from cinexai.leads import CINE_CHANNELS, LEADS

N_CASES = 10
EVAL_CFG = {
    "threshold": "per_configuration",
    "threshold_step": 0.01,
    "oracle_noise": 0.1,
    "controls": ["random", "oracle", "integrated_gradients_model_randomized"],
    "bootstrap": {"n_resamples": 300, "confidence": 0.95},
}
# instance -> (registered method, signal strength, noise sd); larger signal = better alignment
METHODS = {
    "integrated_gradients": ("integrated_gradients", 1.0, 0.5),
    "gradient_shap": ("gradient_shap", 0.5, 0.5),
    "random": ("random", 0.0, 1.0),
    "integrated_gradients_model_randomized": ("integrated_gradients", 0.0, 1.0),
}


def _cohort(tmp_path):
    """records, annotations -> masks, predictions for N_CASES evaluation cases."""
    ids = np.arange(1, N_CASES + 1, dtype=np.int64)
    write_table(
        pd.DataFrame({"ecg_id": ids, "split": "evaluation", "included": True}),
        tmp_path / "records.parquet",
    )
    rows = []
    for k, case in enumerate(ids):
        diag = "abnormal" if k % 2 else "normal"
        start = 20 + 15 * k
        rows += [
            [case, "a", "ecg12", LEADS[k % 12], start, start + 60, "segment", diag],
            [case, "a", "ecg12", "V2", 200, 260, "segment", diag],
            [case, "b", "cineecg", "*", start, start + 80, "segment", diag],
            [case, "b", "cineecg", "*", 300, 300, "point", diag],
        ]
    cols = ["case_id", "annotator", "modality", "lead", "start_ms", "end_ms", "kind", "diagnosis"]
    pd.DataFrame(rows, columns=cols).to_csv(tmp_path / "annotations.csv", index=False)
    build_masks(
        tmp_path / "annotations.csv",
        tmp_path / "records.parquet",
        tmp_path / "masks.parquet",
        {"sampling_rate": 500, "window_ms": 400},
    )
    label = (ids % 2 == 0).astype(np.int8)  # case k=odd index -> abnormal -> even id
    pred = label.copy()
    pred[:3] = 1 - pred[:3]  # three disagreements
    write_table(
        pd.DataFrame(
            {
                "id": ids,
                "split": "evaluation",
                "label": label,
                "prob_abnormal": pred.astype(np.float32),
                "pred": pred,
            }
        ),
        tmp_path / "predictions.parquet",
    )
    return read_table(tmp_path / "masks.parquet")


def _attribution(tmp_path, masks, source, method, seed):
    """Phi = sign * (strength * mask + noise) on every channel of the source."""
    registered, strength, noise = METHODS[method]
    target = "ecg12" if source == "ecg12" else "cineecg"
    channels = LEADS if target == "ecg12" else CINE_CHANNELS
    m = masks[masks.modality == target]
    rng = np.random.default_rng(seed)
    frames = []
    for case, g in m.groupby("case_id"):
        sign = -1.0 if g.diagnosis.iloc[0] == "normal" else 1.0
        truth = g.pivot(index="channel", columns="t", values="mask").reindex(channels)
        truth = truth.fillna(False).to_numpy(dtype=float)
        phi = sign * (strength * truth + rng.normal(0, noise, truth.shape))
        frames.append(
            pd.DataFrame(
                {
                    "case_id": case,
                    "channel": np.repeat(channels, 200),
                    "t": np.tile(np.arange(200, dtype=np.int16), len(channels)),
                    "time_ms": np.tile(np.arange(200) * 2.0, len(channels)),
                    "phi": phi.ravel().astype(np.float32),
                }
            )
        )
    path = tmp_path / f"attributions/source={source}/method={method}/part-0.parquet"
    write_table(
        pd.concat(frames),
        path,
        {"source": source, "method": method, "registered_method": registered},
    )
    return path


def _score(tmp_path, attr, post, cfg=EVAL_CFG):
    meta = read_metadata(attr)
    base = (
        tmp_path
        / f"scores/source={meta['source']}/method={meta['method']}"
        / f"postprocessing={post}"
    )
    score(
        attr,
        tmp_path / "masks.parquet",
        tmp_path / "predictions.parquet",
        base / "part-0.parquet",
        base / "sweep.parquet",
        post,
        cfg,
    )
    return base / "part-0.parquet", base / "sweep.parquet"


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grid")
    masks = _cohort(tmp)
    attrs = [
        _attribution(tmp, masks, s, m, k)
        for k, (s, m) in enumerate((s, m) for s in ("ecg12", "cineecg", "mapped") for m in METHODS)
    ]
    for s in ("ecg12", "cineecg", "mapped"):
        out = tmp / f"attributions/source={s}/method=oracle/part-0.parquet"
        oracle(tmp / "masks.parquet", s, out, EVAL_CFG, seed=0)
        attrs.append(out)
    paths = [_score(tmp, a, p) for a in attrs for p in ("positive", "absolute", "scaled")]
    make_tables([p for p, _ in paths], [s for _, s in paths], tmp / "tables", EVAL_CFG, seed=0)
    return tmp, paths


def _scores(tmp, source, method, post):
    return read_table(
        tmp / f"scores/source={source}/method={method}/postprocessing={post}/part-0.parquet"
    )


def test_score_rows_and_columns(grid):
    tmp, _ = grid
    df = _scores(tmp, "ecg12", "integrated_gradients", "absolute")
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
        tmp / "scores/source=ecg12/method=integrated_gradients/"
        "postprocessing=absolute/part-0.parquet"
    )
    assert meta["attribution"]["registered_method"] == "integrated_gradients"
    assert "masks" in meta["inputs_sha256"]


def test_sweep_has_every_threshold_and_chosen_maximises_mean(grid):
    tmp, _ = grid
    base = tmp / "scores/source=mapped/method=gradient_shap/postprocessing=scaled"
    sweep = read_table(base / "sweep.parquet")
    assert len(sweep) == N_CASES * 101
    curve = sweep.groupby("threshold")["dice"].mean()
    np.testing.assert_allclose(curve.to_numpy(), sweep.groupby("threshold")["mean_dice"].first())
    chosen = read_table(base / "part-0.parquet")
    assert chosen.threshold.iloc[0] == pytest.approx(curve.idxmax())
    assert chosen.dice.mean() == pytest.approx(curve.max())


def test_per_case_threshold_is_at_least_per_configuration(grid):
    tmp, _ = grid
    attr = tmp / "attributions/source=cineecg/method=gradient_shap/part-0.parquet"
    out = tmp / "per_case"
    score(
        attr,
        tmp / "masks.parquet",
        tmp / "predictions.parquet",
        out / "s.parquet",
        out / "w.parquet",
        "absolute",
        {**EVAL_CFG, "threshold": "per_case"},
    )
    per_case = read_table(out / "s.parquet")
    per_conf = _scores(tmp, "cineecg", "gradient_shap", "absolute")
    assert (per_case.dice.to_numpy() >= per_conf.dice.to_numpy() - 1e-12).all()
    assert per_case.threshold.nunique() > 1


def test_oracle_scores_near_one_and_random_near_floor(grid):
    tmp, _ = grid
    for source in ("ecg12", "cineecg", "mapped"):
        for post in ("positive", "absolute", "scaled"):
            assert _scores(tmp, source, "oracle", post).dice.mean() > 0.95
        rnd = _scores(tmp, source, "random", "absolute")
        assert abs(rnd.dice.mean() - rnd.floor_dice.mean()) < 0.12
    oracle_attr = read_table(tmp / "attributions/source=ecg12/method=oracle/part-0.parquet")
    assert set(oracle_attr.channel) == set(LEADS)
    meta = read_metadata(tmp / "attributions/source=ecg12/method=oracle/part-0.parquet")
    assert meta["registered_method"] == "oracle" and meta["seed"] == 0


def test_annotated_case_without_attribution_raises_naming_it(grid, tmp_path):
    tmp, _ = grid
    attr = read_table(tmp / "attributions/source=cineecg/method=gradient_shap/part-0.parquet")
    path = tmp_path / "part-0.parquet"
    write_table(attr[attr.case_id != 4], path, {"source": "cineecg", "method": "gradient_shap"})
    with pytest.raises(ValueError, match="annotated case 4 has no attribution rows"):
        score(
            path,
            tmp / "masks.parquet",
            tmp / "predictions.parquet",
            tmp_path / "s.parquet",
            tmp_path / "w.parquet",
            "absolute",
            EVAL_CFG,
        )
    assert not (tmp_path / "s.parquet").exists()
    write_table(
        attr[~((attr.case_id == 5) & (attr.channel == "y"))],
        path,
        {"source": "cineecg", "method": "gradient_shap"},
    )
    with pytest.raises(ValueError, match="case 5 lacks attribution for channel 'y'"):
        score(
            path,
            tmp / "masks.parquet",
            tmp / "predictions.parquet",
            tmp_path / "s.parquet",
            tmp_path / "w.parquet",
            "absolute",
            EVAL_CFG,
        )


def _pool_best(tmp, targets, exclude):
    frames = [read_table(p) for p in (tmp / "scores").rglob("part-0.parquet")]
    df = pd.concat(frames)
    df = df[df.target.isin(targets) & ~df.method.isin(exclude)]
    means = df.groupby(["source", "method", "postprocessing"])["dice"].mean()
    return means.idxmax(), means.max()


def test_optimisation_pool_picks_max_mean_dice_excluding_controls(grid):
    tmp, _ = grid
    t1 = pd.read_csv(tmp / "tables/table1.csv")
    for target, label in (("cineecg", "CineECG Signal"), ("ecg12", "12-Lead Signal")):
        (source, method, post), mean = _pool_best(tmp, [target], EVAL_CFG["controls"])
        row = t1[t1.modality == label].iloc[0]
        assert (row.source, row.method, row.postprocessing) == (source, method, post)
        assert row.dice == pytest.approx(mean) and row.n == N_CASES
        # with controls in the pool the oracle would have won
        assert _pool_best(tmp, [target], [])[0][1] == "oracle"
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
    tmp, paths = grid
    cfg = {**EVAL_CFG, "table4_method": "gradient_shap"}
    make_tables([p for p, _ in paths], [s for _, s in paths], tmp_path, cfg, seed=0)
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
    df = _scores(tmp, row.source, row.method, row.postprocessing).set_index("case_id")
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
