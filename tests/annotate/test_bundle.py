"""The blinded bundle: opaque random keys, nothing that leaks id, label, patient or order."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from annotate_data import CASES, OTHER, make_bundle, make_run

from cinexai.annotate.bundle import build_bundle, read_key_map, read_manifest
from cinexai.io import read_signals


def test_bundle_holds_the_cases_under_random_keys_and_nothing_that_leaks(tmp_path):
    paths = make_bundle(tmp_path)
    key_map = read_key_map(paths["key_map"])
    assert sorted(key_map.values()) == sorted(CASES)  # evaluation cases only
    manifest = read_manifest(paths["bundle"])
    assert manifest["cases"] == sorted(key_map)
    files = sorted(p for p in paths["bundle"].rglob("*") if p.is_file())
    assert {p.name for p in (paths["bundle"] / "cases").iterdir()} == {f"{k}.json" for k in key_map}
    secrets = [str(i) for i in (*CASES, *OTHER)]
    secrets += [str(p) for p, _ in (*CASES.values(), *OTHER.values())]
    for path in files:
        text = path.read_text()
        for s in secrets:
            assert not re.search(rf"(?<!\d){s}(?!\d)", text), (s, path)
        for word in ("label", "predict", "ecg_id", "patient", "attribution", "split", "scp"):
            assert f'"{word}' not in text.lower(), (word, path)
    windows = read_signals(paths["data"] / "windows.parquet")
    for key, ecg_id in key_map.items():
        case = json.loads((paths["bundle"] / "cases" / f"{key}.json").read_text())
        assert set(case) == {
            "fs",
            "window_ms",
            "leads",
            "window",
            "trajectory",
            "heart_rate",
            "record",
        }
        k = list(windows.ids).index(ecg_id)
        assert np.allclose(case["window"], windows.X[k], atol=6e-4)
        assert np.shape(case["record"]["signal"]) == (12, 5000)  # the 10 s record
        assert np.shape(case["trajectory"]) == (3, 200)
    heart = json.loads((paths["bundle"] / "heart.json").read_text())
    assert set(heart["meshes"]) == {"lv", "rv"}


def test_keys_are_fresh_per_build_and_not_derived_from_ids(tmp_path):
    run = make_run(tmp_path)
    d = run["data"]
    maps = []
    for k in range(2):
        out, km = tmp_path / f"b{k}", tmp_path / f"private{k}" / "key_map.csv"
        build_bundle(
            windows=d / "windows.parquet",
            cineecg=d / "cineecg.parquet",
            records=d / "records.parquet",
            out_dir=out,
            key_map=km,
            window_ms=400,
        )
        maps.append(read_key_map(km))
        assert len({len(key) for key in maps[-1]}) == 1 and len(next(iter(maps[-1]))) == 16
    assert set(maps[0]).isdisjoint(maps[1])
    assert all(
        json.loads((tmp_path / "b0" / "cases" / f"{k}.json").read_text())["record"] is None
        for k in maps[0]
    )


def test_key_map_inside_the_served_folder_is_refused(tmp_path):
    d = make_run(tmp_path)["data"]
    with pytest.raises(ValueError, match="inside the served bundle"):
        build_bundle(
            windows=d / "windows.parquet",
            cineecg=d / "cineecg.parquet",
            records=d / "records.parquet",
            out_dir=tmp_path / "b",
            key_map=tmp_path / "b" / "key_map.csv",
            window_ms=400,
        )
