"""Canonical params and code hashes over import closures (cinexai.rerun)."""

from __future__ import annotations

import json

import pytest

from cinexai import rerun

SCRIPTS = rerun.PACKAGE_DIR.parents[1] / "workflow" / "scripts"


def test_canonical_values_do_not_depend_on_key_order():
    a = {"b": {"y": 1, "x": (1, 2)}, "a": [{"q": 1, "p": 2}]}
    b = {"a": [{"p": 2, "q": 1}], "b": {"x": [1, 2], "y": 1}}
    assert repr(rerun.canonical(a)) == repr(rerun.canonical(b))
    assert list(rerun.canonical(a)) == ["a", "b"]
    assert repr(rerun.canonical({"n": 1})) != repr(rerun.canonical({"n": 1.0}))


def test_only_keeps_exactly_the_keys_a_stage_reads():
    section = {"threshold": "per_case", "threshold_step": 0.01, "bootstrap": {"n": 3}}
    assert rerun.only(section, "threshold_step", "threshold") == {
        "threshold": "per_case",
        "threshold_step": 0.01,
    }
    with pytest.raises(KeyError, match=r"evaluation\.oracle_noise"):
        rerun.only(section, "oracle_noise", where="evaluation")


def test_closures_follow_imports_without_importing():
    figures = rerun.closure(SCRIPTS / "case_figures.py")
    assert {"cinexai.figures.style", "cinexai.evaluation.postprocessing", "cinexai"} <= set(figures)
    attribute = rerun.closure(SCRIPTS / "attribute.py")
    assert "cinexai.models.checkpoint" in attribute
    assert "cinexai.models.randomize" not in attribute  # imported by name, per instance
    assert "cinexai.attribution.lime_method" not in attribute
    lime = rerun.closure("cinexai.attribution.lime_method")
    assert {"cinexai.attribution.base", "cinexai.attribution.registry"} <= set(lime)


def test_relative_imports_resolve_to_package_modules(tmp_path):
    path = tmp_path / "fake.py"
    path.write_text("from . import style\nfrom ..io import atomic_write\nimport numpy\n")
    assert rerun.imports(path, "cinexai.figures.fake") == {
        "cinexai",
        "cinexai.figures",
        "cinexai.figures.style",
        "cinexai.io",
    }
    assert rerun.imports(path) == set()  # a script's relative imports name no package module


def test_comments_and_docstrings_do_not_change_the_hash_code_does(tmp_path):
    script = tmp_path / "stage.py"
    script.write_text("import cinexai.leads\n\nX = 1\n")
    before = rerun.code_hash(script)
    script.write_text('"""A stage."""\n\nimport cinexai.leads  # the leads\n\nX = (\n    1\n)\n')
    assert rerun.code_hash(script) == before
    script.write_text("import cinexai.leads\n\nX = 2\n")
    assert rerun.code_hash(script) != before
    script.write_text("import cinexai.io\n\nX = 1\n")
    assert rerun.code_hash(script) != before


def test_the_digest_cache_is_reused_across_processes(tmp_path, monkeypatch):
    cache = tmp_path / "digests.json"
    monkeypatch.setattr(rerun, "CACHE_FILE", cache)
    first = rerun.code_hash(SCRIPTS / "score.py")
    stored = json.loads(cache.read_text())
    assert stored["files"] and all(len(v[1]) == 64 for v in stored["files"].values())
    monkeypatch.setattr(rerun, "_memory", {})
    monkeypatch.setattr(rerun, "_loaded_from", None)
    monkeypatch.setattr(rerun, "_parse", lambda data, path: pytest.fail(f"parsed {path}"))
    assert rerun.code_hash(SCRIPTS / "score.py") == first
