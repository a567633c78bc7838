"""imn_weights: Eq. 1 read exactly from the IMN's generated weights, IMN models only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cinexai.attribution import base, registry
from cinexai.attribution.run import attribute
from cinexai.config import defaults
from cinexai.io import read_metadata, read_table
from cinexai.leads import LEADS
from cinexai.models.checkpoint import save_model

CFG = {**defaults()["attribution"], "batch_size": 64, "device": "cpu"}


def _phi(h, model, read: str = "contribution", one_pass: bool = True) -> np.ndarray:
    name, params = registry.resolve("w", {"method": "imn_weights", "read": read})
    ctx = h.context(12, params)
    ctx.model, ctx.case_ids = model, np.array([1, 2, 3])
    f = base.output_function(model, "probability")
    return base.bipolar_phi(registry.get(name), f, h.inputs(3, 12), ctx, one_pass)


def test_eq1_one_pass_identity_cells_sum_to_half_the_logit_difference(h):
    """sum Phi + (b_1 - b_0)/2 = (logit_1 - logit_0)/2 for every case, in one forward pass."""
    model, x = h.imn(12), h.inputs(3, 12)
    phi = _phi(h, model)
    with torch.no_grad():
        logits = model(x)
        _, bias, _ = model.generate(x)
    half = ((logits[:, 1] - logits[:, 0]) / 2).numpy()
    rest = ((bias[:, 1] - bias[:, 0]) / 2).numpy()
    np.testing.assert_allclose(phi.sum(axis=(1, 2)) + rest, half, atol=1e-5)
    # the output setting and the one-pass choice do not apply: W is read from the logits once
    np.testing.assert_array_equal(phi, _phi(h, model, one_pass=False))


def test_raw_weights_instance_reads_half_the_weight_difference(h):
    model, x = h.imn(12), h.inputs(3, 12)
    with torch.no_grad():
        weights, _, z = model.generate(x)
    expected = ((weights[:, 1] - weights[:, 0]) / 2).numpy()
    np.testing.assert_allclose(_phi(h, model, read="weights"), expected, atol=1e-7)
    np.testing.assert_allclose(_phi(h, model), expected * z.numpy(), atol=1e-6)


def test_refuses_a_resnet(h):
    with pytest.raises(TypeError, match="imn_weights reads an IMN's generated weights"):
        _phi(h, h.model(12))


def test_attribute_stage_on_an_imn_and_the_error_naming_instance_and_arch(dataset, h, tmp_path):
    imn = h.imn(12)
    path = tmp_path / "imn" / "model.pt"
    save_model(imn, path, imn.arch, "ecg12", LEADS)
    out = tmp_path / "a.parquet"
    kw = dict(
        signals=dataset["windows"],
        records=dataset["records"],
        out=out,
        source="ecg12",
        name="imn_weights",
        method_cfg={},
        cfg=CFG,
        seed=3,
    )
    attribute(model=path, arch="imn", **kw)
    meta = read_metadata(out)
    assert meta["arch"] == "imn" and meta["registered_method"] == "imn_weights"
    assert meta["eq1"].startswith("intrinsic")
    assert read_table(out)["phi"].abs().max() > 0
    with pytest.raises(
        ValueError,
        match=r"methods\.imn_weights: method 'imn_weights' is only "
        r"defined for architecture\(s\) \['imn'\], not 'resnet'",
    ):
        attribute(model=dataset["model12"], arch="resnet", **kw)
    with pytest.raises(ValueError, match="is a 'resnet' model, not 'imn'"):
        attribute(model=dataset["model12"], arch="imn", **kw)


def test_model_randomized_control_reads_a_reinitialised_hypernetwork(dataset, h, tmp_path: Path):
    imn = h.imn(12)
    path = tmp_path / "imn" / "model.pt"
    save_model(imn, path, imn.arch, "ecg12", LEADS)
    outs = {}
    for variant in ("trained", "randomized"):
        outs[variant] = tmp_path / f"{variant}.parquet"
        attribute(
            signals=dataset["windows"],
            records=dataset["records"],
            model=path,
            out=outs[variant],
            source="ecg12",
            name="w",
            method_cfg={"method": "imn_weights", "model": variant},
            cfg=CFG,
            seed=3,
            arch="imn",
        )
    trained, randomized = (read_table(outs[v])["phi"].to_numpy() for v in outs)
    assert read_metadata(outs["randomized"])["model"] == "randomized"
    assert not np.allclose(trained, randomized)
