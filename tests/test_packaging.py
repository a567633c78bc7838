"""A non-editable install of the package validates a config: the schema ships as package data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from cinexai.config import defaults

REPO = Path(__file__).resolve().parents[1]

CHECK = """
import json, sys
import cinexai
from cinexai.config import ConfigError, load_config
config = load_config(sys.argv[1])
try:
    load_config(sys.argv[2])
    error = None
except ConfigError as exc:
    error = str(exc)
print(json.dumps({"file": cinexai.__file__, "config": config, "error": error}))
"""


@pytest.mark.slow
def test_pip_install_into_a_fresh_venv_validates_a_config(tmp_path):
    """``pip install .`` (no editable) into a new venv; load_config runs there, outside the repo.

    Dependencies come from this interpreter (a ``.pth`` line naming its site-packages, whose own
    ``.pth`` files, the editable install among them, are not processed), so nothing is downloaded.
    """
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], check=True
    )
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "parent_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(source)],
        check=True,
        env=env,
        cwd=tmp_path,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "mine.yaml").write_text("dataset: synthetic\nseed: 1\n")
    (work / "bad.yaml").write_text("seed: 1\nfigures: {dpii: 100}\n")
    proc = subprocess.run(
        [python, "-c", CHECK, "mine.yaml", "bad.yaml"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(result["file"]).is_relative_to(venv)  # the installed copy, not the source tree
    assert result["config"] == {**defaults(), "seed": 1}
    assert "'dpii' was unexpected" in result["error"]
