"""Joining records to signals: splits, bad input named, normalisation statistics."""

from __future__ import annotations

import numpy as np
import pytest

from cinexai.io import read_table, write_table
from cinexai.models.data import channel_stats, load_model_data


def test_splits_join_included_records_by_id(problem) -> None:
    signals, records = problem("cineecg", n_samples=32)
    rec = read_table(records)
    rec.loc[rec.index[:3], "included"] = False
    write_table(rec, records)
    data = load_model_data(signals, records, "cineecg")
    kept = rec[rec["included"]]
    assert data.counts() == kept["split"].value_counts().reindex(data.splits).to_dict()
    val = data.splits["val"]
    expected = kept[kept["split"] == "val"]
    assert np.array_equal(val.ids, expected["ecg_id"]) and np.array_equal(val.y, expected["label"])
    assert val.X.shape == (len(expected), 3, 32) and val.X.dtype == np.float32
    assert data.signature() == load_model_data(signals, records, "cineecg").signature()


def test_bad_inputs_are_named(problem) -> None:
    signals, records = problem("cineecg", n_samples=32)
    with pytest.raises(ValueError, match="needs 12 channels"):
        load_model_data(signals, records, "ecg12")
    rec = read_table(records)
    rec.loc[rec.index[4], "split"] = "holdout"
    write_table(rec, records)
    with pytest.raises(ValueError, match=rf"ecg_id {rec['ecg_id'].iloc[4]} has split 'holdout'"):
        load_model_data(signals, records, "cineecg")
    rec.loc[rec.index[4], "split"] = "train"
    rec.loc[rec.index[5], "ecg_id"] = 99999
    write_table(rec, records)
    with pytest.raises(KeyError, match="record id 99999"):
        load_model_data(signals, records, "cineecg")


def test_channel_stats_guard_flat_channels() -> None:
    X = np.stack(
        [np.random.default_rng(0).normal(2.0, 3.0, (50, 100)), np.full((50, 100), 0.5)], axis=1
    )
    mean, std = channel_stats(X, ["a", "flat"])
    assert abs(mean[0] - 2.0) < 0.2 and abs(std[0] - 3.0) < 0.2
    assert mean[1] == pytest.approx(0.5) and std[1] == 1.0
