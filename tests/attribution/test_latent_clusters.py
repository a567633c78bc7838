"""The latent-cluster method: registered, run by its own stage, output in the attribution format."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cinexai.attribution import registry
from cinexai.attribution.base import AttributionContext
from cinexai.attribution.latent_clusters import explain
from cinexai.clusters import latent
from cinexai.io import read_metadata, read_table


@pytest.fixture(scope="module")
def fitted(cluster_problem, fit_state, tmp_path_factory):
    state = tmp_path_factory.mktemp("lc") / "state.npz"
    p = cluster_problem
    fit_state(state, 3, "lc3")
    return p, state


def _explain(p, state, out, instance: dict) -> None:
    explain(
        signals=p.signals,
        records=p.records,
        model=p.model,
        state=state,
        out=out,
        source="ecg12",
        name="lc",
        method_cfg=instance,
        clusters_cfg={},
        seed=0,
    )


def test_registered_with_its_parameters() -> None:
    name, params = registry.resolve("lc", {"method": "latent_clusters", "n_clusters": 4})
    assert name == "latent_clusters" and params == {"n_clusters": 4, "weighting": "none"}
    with pytest.raises(ValueError, match="unknown parameter"):
        registry.resolve("lc", {"method": "latent_clusters", "k": 4})


def test_attribute_without_the_fitted_state_says_which_rule_runs_it() -> None:
    spec = registry.get("latent_clusters")
    ctx = AttributionContext(reference=np.zeros((0, 12, 20), np.float32), params={})
    with pytest.raises(ValueError, match="explain_clusters"):
        spec.fn(None, torch.zeros(1, 12, 20), ctx, None)


@pytest.mark.parametrize("weighting", ["none", "certainty"])
def test_explain_writes_phi_uncertainty_and_cluster(fitted, tmp_path, weighting) -> None:
    p, state = fitted
    out = tmp_path / "part-0.parquet"
    instance = {"method": "latent_clusters", "n_clusters": 3, "weighting": weighting}
    _explain(p, state, out, instance)
    table = read_table(out)
    expected = {"case_id", "channel", "t", "time_ms", "phi", "uncertainty", "cluster"}
    assert set(table.columns) == expected
    assert table["case_id"].nunique() == 6 and len(table) == 6 * 12 * 200
    per_t = table.groupby(["case_id", "t"])
    assert (per_t["phi"].nunique() == 1).all() and (per_t["cluster"].nunique() == 1).all()
    assert table["uncertainty"].between(0, np.log(3) + 1e-6).all()
    meta = read_metadata(out)
    assert meta["registered_method"] == "latent_clusters" and len(meta["clusters_sha256"]) == 64
    assert len(meta["model_sha256"]) == 64 and meta["params"]["weighting"] == weighting
    if weighting == "certainty":  # |Phi| shrinks where the assignment is uncertain
        plain = tmp_path / "plain.parquet"
        _explain(p, state, plain, {**instance, "weighting": "none"})
        base = read_table(plain)["phi"].to_numpy()
        factor = 1 - table["uncertainty"].to_numpy() / np.log(3)
        assert np.allclose(table["phi"].to_numpy(), base * factor, atol=1e-6)


def test_explain_refuses_a_state_of_another_k(fitted, tmp_path) -> None:
    p, state = fitted
    with pytest.raises(ValueError, match="fitted with 3 clusters"):
        _explain(p, state, tmp_path / "o.parquet", {"method": "latent_clusters", "n_clusters": 5})


def test_the_declared_weighting_check_accepts_exactly_the_weightings() -> None:
    check = registry.get("latent_clusters").params["weighting"]
    assert all(check(w) is None for w in latent.WEIGHTINGS)
    assert check("entropy") is not None
