"""The conda environment files list the same pins as pyproject.toml."""

from __future__ import annotations

import re
import tomllib

import yaml


def test_env_pins_match_pyproject(repo):
    deps = tomllib.loads((repo / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {re.split(r"[<>=!~]", d)[0]: d[len(re.split(r"[<>=!~]", d)[0]) :] for d in deps}
    conda_names = {"pytorch": "torch"}
    files = sorted((repo / "envs").glob("*.yaml"))
    assert len(files) >= 5
    for path in files:
        env = yaml.safe_load(path.read_text())
        entries = [d for d in env["dependencies"] if isinstance(d, str)]
        entries += [d for d in env["dependencies"] if isinstance(d, dict)][0]["pip"]
        for entry in entries:
            name = re.split(r"[<>=!~ ]", entry)[0]
            name = conda_names.get(name, name)
            if name in pins:
                assert entry.endswith(pins[name]), f"{path.name}: {entry} != pyproject {pins[name]}"
    rules = "".join(p.read_text() for p in (repo / "workflow" / "rules").glob("*.smk"))
    for path in files:
        assert f"envs/{path.name}" in rules, f"{path.name} is used by no rule"
