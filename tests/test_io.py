"""cinexai.io: atomic writes, signal round trips, provenance helpers."""

from __future__ import annotations

import numpy as np
import pytest

from cinexai import io


def test_signal_round_trip_keeps_values_order_and_metadata(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 3, 7)).astype(np.float32)
    ids = [10, 3, 7, 1, 2]
    path = tmp_path / "s.parquet"
    io.write_signals(
        path, ids, X, ["x", "y", "z"], 500, columns={"split": list("abcde")}, metadata={"seed": 4}
    )
    s = io.read_signals(path)
    np.testing.assert_array_equal(s.X, X)
    assert list(s.ids) == ids and s.channels == ["x", "y", "z"] and s.fs == 500
    assert s.meta["seed"] == 4 and list(s.frame["split"]) == list("abcde")
    sub = s.select([7, 10])
    np.testing.assert_array_equal(sub.X, X[[2, 0]])
    with pytest.raises(KeyError, match="record id 99"):
        s.select([7, 99])


def test_write_signals_rejects_wrong_channel_count(tmp_path):
    with pytest.raises(ValueError, match=r"\(N, 2, T\)"):
        io.write_signals(tmp_path / "s.parquet", [1], np.zeros((1, 3, 4)), ["a", "b"], 500)
    assert not list(tmp_path.iterdir())


def test_atomic_write_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError), io.atomic_write(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("boom")
    assert not target.exists() and not list(tmp_path.iterdir())


def test_package_versions_are_recorded():
    versions = io.package_versions()
    assert {"python", "numpy", "pyarrow"} <= set(versions)
