"""The fitted state round-trips, and a tampered, unverified or pickled file is refused."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest

from cinexai.clusters import latent
from cinexai.clusters.store import FittedState, load_state, save_state, sidecar


def _state() -> FittedState:
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(600, 6))
    clusterer = latent.fit_clusterer(feats, 3, 4, seed=0)
    props = rng.dirichlet(np.ones(3), 50)
    forest = latent.fit_forest(props, (props[:, 0] > 0.3).astype(int), 5, 1, 0)
    return FittedState(clusterer, forest, np.arange(10, 60), {"n_clusters": 3, "seed": 0})


def test_reloaded_state_gives_the_same_assignments_and_forest(tmp_path) -> None:
    state = _state()
    path = tmp_path / "state.npz"
    digest = save_state(state, path)
    loaded, seen = load_state(path)
    assert seen == digest == hashlib.sha256(path.read_bytes()).hexdigest()
    x = np.random.default_rng(1).normal(size=(7, 20, 6))
    assert np.array_equal(loaded.clusterer.proba(x), state.clusterer.proba(x))
    props = np.random.default_rng(2).dirichlet(np.ones(3), 9)
    assert np.array_equal(loaded.forest.predict_proba(props), state.forest.predict_proba(props))
    assert np.array_equal(loaded.train_ids, state.train_ids)
    assert loaded.meta["n_clusters"] == 3


def test_tampered_file_is_refused(tmp_path) -> None:
    path = tmp_path / "state.npz"
    save_state(_state(), path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="differs from its sidecar"):
        load_state(path)


def test_missing_sidecar_is_refused(tmp_path) -> None:
    path = tmp_path / "state.npz"
    save_state(_state(), path)
    sidecar(path).unlink()
    with pytest.raises(ValueError, match="no SHA-256 sidecar"):
        load_state(path)


def test_pickled_arrays_are_never_loaded_even_with_a_matching_hash(tmp_path) -> None:
    path = tmp_path / "state.npz"
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array([{"evil": 1}], dtype=object))
    path.write_bytes(buffer.getvalue())
    sidecar(path).write_text(hashlib.sha256(buffer.getvalue()).hexdigest() + "\n")
    with pytest.raises(ValueError, match="pickle"):
        load_state(path)
