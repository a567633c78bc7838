"""Every workflow script calls its stage entry function with keywords that match its signature."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parents[2] / "workflow" / "scripts").glob("*.py"))


def _entry_calls(path: Path) -> list[tuple[str, ast.Call]]:
    """(module.function, call) for each call of a function imported from the cinexai package."""
    tree = ast.parse(path.read_text())
    imported = {
        alias.asname or alias.name: f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cinexai.")
        for alias in node.names
    }
    imported.pop("logged", None)  # the logging context manager, not a stage
    return [
        (imported[node.func.id], node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in imported
    ]


def _function(qualified: str):
    module, name = qualified.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def test_every_script_is_checked():
    assert len(SCRIPTS) >= 14
    assert all(_entry_calls(path) for path in SCRIPTS), "a script calls no cinexai function"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script_calls_match_keyword_only_signature(path):
    for qualified, call in _entry_calls(path):
        params = inspect.signature(_function(qualified)).parameters
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values()), (
            f"{qualified}: stage entry functions take keyword-only arguments"
        )
        assert not call.args, f"{path.name}: {qualified} called with positional arguments"
        given = [kw.arg for kw in call.keywords]
        assert None not in given, f"{path.name}: **kwargs hide the names"
        unknown = set(given) - set(params)
        missing = {n for n, p in params.items() if p.default is p.empty} - set(given)
        assert not unknown and not missing, (
            f"{path.name}: {qualified} unknown {sorted(unknown)}, missing {sorted(missing)}"
        )
