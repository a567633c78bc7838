"""The attribute stage entry: output format, provenance and the error cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from cinexai.attribution.run import (
    attribute,
    gather,
    load_checked_model,
    randomization_seed,
    randomized_models,
    shard_batches,
)
from cinexai.config import defaults
from cinexai.io import (
    file_sha256,
    read_metadata,
    read_signals,
    read_table,
    write_signals,
    write_table,
)

CFG = {**defaults()["attribution"], "batch_size": 64, "device": "cpu"}
IG = {"method": "integrated_gradients", "n_steps": 6, "nt_samples": 3}


def _out(tmp_path: Path, source: str, name: str) -> Path:
    return tmp_path / "attributions" / f"source={source}" / f"method={name}" / "part-0.parquet"


def _run(
    paths: dict,
    out: Path,
    source: str = "ecg12",
    name: str = "ig_small",
    method_cfg: dict | None = None,
    cfg: dict | None = None,
    model: str = "model12",
    shard: int = 0,
    shards: int = 1,
    seed: int = 3,
) -> None:
    signals = paths["windows"] if source == "ecg12" else paths["cineecg"]
    attribute(
        shard=shard,
        shards=shards,
        signals=signals,
        records=paths["records"],
        model=paths[model],
        out=out,
        source=source,
        name=name,
        method_cfg=IG if method_cfg is None else method_cfg,
        cfg=CFG if cfg is None else cfg,
        seed=seed,
    )


def test_attribute_writes_long_format_with_provenance(dataset: dict, tmp_path: Path) -> None:
    out = _out(tmp_path, "ecg12", "ig_small")
    _run(dataset, out)
    df = read_table(out)
    assert list(df.columns) == ["case_id", "channel", "t", "time_ms", "phi"]
    assert df["case_id"].dtype == np.int64 and df["t"].dtype == np.int16
    assert df["phi"].dtype == np.float32 and df["time_ms"].dtype == np.float32
    assert sorted(df["case_id"].unique()) == [100, 101, 102, 103]  # evaluation & included only
    assert len(df) == 4 * 12 * 40 and df["phi"].abs().max() > 0
    assert df.loc[df.t == 10, "time_ms"].iloc[0] == pytest.approx(20.0)
    meta = read_metadata(out)
    assert meta["source"] == "ecg12" and meta["method"] == "ig_small"
    assert meta["registered_method"] == "integrated_gradients" and meta["params"]["n_steps"] == 6
    assert meta["baseline"] == "zero" and meta["output"] == "probability"
    assert meta["one_pass"] is True and meta["seed"] == 3 and meta["model"] == "trained"
    assert meta["model_sha256"] == file_sha256(dataset["model12"])
    assert "torch" in meta["versions"] and "captum" in meta["versions"]
    hive = read_table(tmp_path / "attributions")
    assert set(hive["source"].astype(str)) == {"ecg12"}


def test_one_and_two_pass_runs_agree_and_randomized_model_differs(
    dataset: dict, tmp_path: Path
) -> None:
    one, two, rnd = (_out(tmp_path, "cineecg", n) for n in ("one", "two", "rnd"))
    _run(dataset, one, "cineecg", "one", model="model3")
    _run(dataset, two, "cineecg", "two", model="model3", cfg={**CFG, "one_pass": False})
    _run(dataset, rnd, "cineecg", "rnd", model="model3", method_cfg={**IG, "model": "randomized"})
    a, b, c = (read_table(p)["phi"].to_numpy() for p in (one, two, rnd))
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6 * np.abs(a).max())
    assert not np.allclose(a, c)
    assert read_metadata(two)["one_pass"] is False
    assert read_metadata(rnd)["model"] == "randomized"
    assert set(read_table(one)["channel"]) == {"x", "y", "z"}


def test_randomized_control_draws_one_network_per_case(dataset: dict, tmp_path: Path) -> None:
    out, again = _out(tmp_path, "cineecg", "rnd"), tmp_path / "again.parquet"
    cfg = {**IG, "model": "randomized"}
    _run(dataset, out, "cineecg", "rnd", model="model3", method_cfg=cfg)
    _run(dataset, again, "cineecg", "rnd", model="model3", method_cfg=cfg)
    pd.testing.assert_frame_equal(read_table(out), read_table(again))  # seeded
    seeds = read_metadata(out)["randomization_seeds"]
    assert seeds == [randomization_seed(3, [i]) for i in (100, 101, 102, 103)]
    assert len(set(seeds)) == 4 and randomization_seed(3, [100]) != randomization_seed(4, [100])
    net = load_checked_model(dataset["model3"], 3, "cineecg", torch.device("cpu"))
    models = randomized_models(net, 3)
    first, second = models(np.array([100])), models(np.array([101]))
    assert not torch.equal(first.fc.weight, second.fc.weight)  # a network per case
    assert torch.equal(models(np.array([100])).fc.weight, first.fc.weight)  # the same one again
    assert not torch.equal(first.fc.weight, net.fc.weight)  # not the trained weights
    assert not any(p.requires_grad for p in first.parameters()) and not first.training


def test_random_control_through_the_stage(dataset: dict, tmp_path: Path) -> None:
    first, second = _out(tmp_path, "ecg12", "random"), tmp_path / "again.parquet"
    _run(dataset, first, name="random", method_cfg={})
    _run(dataset, second, name="random", method_cfg={})
    pd.testing.assert_frame_equal(read_table(first), read_table(second))
    assert read_metadata(first)["registered_method"] == "random"


def test_model_source_mismatch_names_model_and_channels(dataset: dict, tmp_path: Path) -> None:
    out = _out(tmp_path, "ecg12", "ig_small")
    with pytest.raises(ValueError, match=r"model .*m3.*model\.pt expects 3 input channels.*has 12"):
        _run(dataset, out, model="model3")
    assert not out.exists()


def test_source_channel_mismatch(dataset: dict, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"source 'cineecg' expects channels \['x', 'y', 'z'\]"):
        attribute(
            signals=dataset["windows"],
            records=dataset["records"],
            model=dataset["model3"],
            out=tmp_path / "o.parquet",
            source="cineecg",
            name="ig",
            method_cfg=IG,
            cfg=CFG,
            seed=0,
        )
    with pytest.raises(ValueError, match="mapped"):
        attribute(
            signals=dataset["windows"],
            records=dataset["records"],
            model=dataset["model12"],
            out=tmp_path / "o.parquet",
            source="mapped",
            name="ig",
            method_cfg=IG,
            cfg=CFG,
            seed=0,
        )
    assert not (tmp_path / "o.parquet").exists()


def test_missing_case_names_the_case(dataset: dict, tmp_path: Path) -> None:
    sig = read_signals(dataset["windows"])
    keep = sig.ids != 102
    write_signals(dataset["windows"], sig.ids[keep], sig.X[keep], sig.channels, sig.fs)
    out = _out(tmp_path, "ecg12", "ig_small")
    with pytest.raises(KeyError, match="evaluation case missing.*102"):
        _run(dataset, out)
    assert not out.exists() and not out.parent.exists()


def test_nan_window_names_the_case(dataset: dict, tmp_path: Path) -> None:
    sig = read_signals(dataset["windows"])
    X = sig.X.copy()
    X[list(sig.ids).index(101), 7, 5] = np.nan
    write_signals(dataset["windows"], sig.ids, X, sig.channels, sig.fs)
    out = _out(tmp_path, "ecg12", "ig_small")
    with pytest.raises(ValueError, match="evaluation case 101 has NaN/inf in channel V2"):
        _run(dataset, out)
    assert not out.exists()


def test_unknown_output_and_empty_evaluation(dataset: dict, tmp_path: Path) -> None:
    out = _out(tmp_path, "ecg12", "ig_small")
    with pytest.raises(ValueError, match="attribution.output"):
        _run(dataset, out, cfg={**CFG, "output": "log"})
    records = read_table(dataset["records"])
    records["split"] = records["split"].replace("evaluation", "test")
    write_table(records, dataset["records"])
    with pytest.raises(ValueError, match="no included records with split == 'evaluation'"):
        _run(dataset, out)
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "method_cfg", "shards", "cases_per_batch"),
    [
        ("ig_small", IG, 2, 1),
        ("ig_rnd", {**IG, "model": "randomized"}, 3, 1),
        ("gradient_shap", {"n_samples": 4}, 2, 2),
        ("lime", {"num_samples": 60}, 3, 1),
        ("random", {}, 4, 1),
    ],
)
def test_gathered_shards_equal_the_unsharded_file_byte_for_byte(
    dataset: dict, tmp_path: Path, name: str, method_cfg: dict, shards: int, cases_per_batch: int
) -> None:
    """S shards (seeded per batch of cases) concatenate into the very bytes of one S=1 run."""
    cfg = {**CFG, "cases_per_batch": cases_per_batch}
    whole, gathered = tmp_path / "whole.parquet", tmp_path / "gathered.parquet"
    _run(dataset, whole, name=name, method_cfg=method_cfg, cfg=cfg)
    parts = [tmp_path / f"shard-{i}-of-{shards}.parquet" for i in range(shards)]
    for i, part in enumerate(parts):
        _run(dataset, part, name=name, method_cfg=method_cfg, cfg=cfg, shard=i, shards=shards)
    ids = [sorted(read_table(part)["case_id"].unique()) for part in parts]
    assert sum(ids, []) == [100, 101, 102, 103] and all(ids)  # contiguous, none empty
    assert read_metadata(parts[-1])["shard"] == [shards - 1, shards]
    gather(shards=parts, out=gathered)
    assert gathered.read_bytes() == whole.read_bytes()
    assert "shard" not in read_metadata(gathered) and read_table(gathered)["phi"].abs().max() > 0


def test_shards_split_whole_batches_and_gather_refuses_a_foreign_shard(
    dataset: dict, tmp_path: Path
) -> None:
    assert [shard_batches(7, 2, i, 3) for i in range(3)] == [
        slice(0, 4),
        slice(4, 6),
        slice(6, 7),
    ]
    with pytest.raises(ValueError, match="attribution.shards 5 exceeds the 4 batches"):
        shard_batches(4, 1, 0, 5)
    parts = [tmp_path / f"shard-{i}.parquet" for i in range(2)]
    _run(dataset, parts[0], name="random", method_cfg={}, shard=0, shards=2)
    _run(dataset, parts[1], name="random", method_cfg={}, shard=1, shards=2)
    with pytest.raises(ValueError, match="expected shards 0..1 of 2 in order"):
        gather(shards=parts[::-1], out=tmp_path / "out.parquet")
    other = tmp_path / "other.parquet"
    _run(dataset, other, name="random", method_cfg={}, shard=1, shards=2, seed=4)
    with pytest.raises(ValueError, match="provenance differs"):
        gather(shards=[parts[0], other], out=tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()
