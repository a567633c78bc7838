"""What makes a Snakemake job rerun: canonical config values and code hashes (stdlib only).

Snakemake compares a job's ``params`` by ``repr`` and cannot see edits to an imported package. So
each rule passes :func:`canonical` values of exactly the config keys its stage reads (:func:`only`),
making key order irrelevant and unrelated keys invisible, and a :func:`code_hash` of what it runs:
its script plus the script's *import closure* inside ``cinexai``, found by parsing imports with
:mod:`ast` (nothing is imported, so building the DAG stays light).

What counts as a code edit: each file is hashed as its abstract syntax tree with docstrings removed,
so comments, formatting and docstrings do not rerun anything; any change to code, constants or
imports does. (The AST dump can change with the Python version: a new interpreter reruns the grid.)
Files that are not Python (the config schema, static web assets) are not part of the hash.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

PACKAGE = "cinexai"
#: The package's source folder.
PACKAGE_DIR = Path(__file__).resolve().parent
_PYTHON = ".".join(map(str, sys.version_info[:2]))


def canonical(value: Any) -> Any:
    """``value`` with every mapping rebuilt with sorted keys and tuples as lists (same ``repr``
    whatever the order a config file gave its keys in)."""
    if isinstance(value, Mapping):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def only(section: Mapping[str, Any], *keys: str, where: str = "config") -> dict[str, Any]:
    """The canonical sub-mapping of ``keys`` of ``section``: what a stage reads, nothing more.

    A stage that reads a key not listed fails with KeyError, so the list cannot silently fall
    short; a listed key missing from the config is an error naming it (``where.key``).
    """
    missing = [k for k in keys if k not in section]
    if missing:
        raise KeyError(f"config keys missing: {', '.join(f'{where}.{k}' for k in missing)}")
    return canonical({k: section[k] for k in keys})


def module_file(name: str) -> Path | None:
    """The source file of package module ``name`` (``cinexai.x.y``), or None if there is none."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


class _Parsed(NamedTuple):
    """What one file contributes: the ``cinexai`` modules it imports, and its code's digest."""

    imports: frozenset[str]
    digest: str


#: Where parsed files are remembered across processes (set by the workflow: a dry run then parses
#: only the files that changed); None keeps them in memory only.
CACHE_FILE: Path | None = None
_memory: dict[str, _Parsed] = {}
_loaded_from: Path | None = None


def _parsed(path: Path) -> _Parsed:
    """The imports and digest of ``path``, keyed by a hash of its bytes (parsed once per content)."""
    data = path.read_bytes()
    key = hashlib.sha256(data).hexdigest()
    _load_cache()
    if key not in _memory:
        _memory[key] = _parse(data, path)
        _save_cache()
    return _memory[key]


def _load_cache() -> None:
    global _loaded_from
    if CACHE_FILE is None or _loaded_from == CACHE_FILE:
        return
    _loaded_from = CACHE_FILE
    with contextlib.suppress(OSError, ValueError, TypeError):
        stored = json.loads(CACHE_FILE.read_text())
        if stored.get("python") == _PYTHON:  # the AST dump depends on the Python version
            for key, (imported, digest) in stored["files"].items():
                _memory.setdefault(key, _Parsed(frozenset(imported), digest))


def _save_cache() -> None:
    if CACHE_FILE is None:
        return
    files = {k: [sorted(v.imports), v.digest] for k, v in _memory.items()}
    with contextlib.suppress(OSError):
        CACHE_FILE.parent.mkdir(parents=True, exist_ok=True)
        tmp = CACHE_FILE.with_name(f".{CACHE_FILE.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"python": _PYTHON, "files": files}))
        os.replace(tmp, CACHE_FILE)


def _parse(data: bytes, path: Path) -> _Parsed:
    tree = ast.parse(data, filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.add(base)
            found.update(
                f"{base}.{alias.name}" if node.module else f"{base}{alias.name}"
                for alias in node.names
            )
    dump = ast.dump(_strip_docstrings(tree), annotate_fields=False, include_attributes=False)
    return _Parsed(frozenset(found), hashlib.sha256(dump.encode()).hexdigest())


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports(path: Path, name: str | None = None) -> set[str]:
    """The ``cinexai`` modules that file ``path`` (module ``name``, None for a script) imports,
    anywhere in it (also inside functions and ``TYPE_CHECKING`` blocks), with their parent
    packages (whose ``__init__`` runs on import)."""
    found = set()
    for target in _parsed(path).imports:
        level = len(target) - len(target.lstrip("."))
        if level:
            if name is None:
                continue  # a relative import in a script: not a package module
            package = _package_of(name, path).split(".")
            anchor = ".".join(package[: len(package) - level + 1])
            rest = target[level:]
            target = f"{anchor}.{rest}" if rest else anchor
        found.add(target)
    modules = {m for m in found if module_file(m) is not None}
    parents = {".".join(m.split(".")[:i]) for m in modules for i in range(1, m.count(".") + 1)}
    return modules | parents


def closure(*roots: str | Path) -> list[str]:
    """Sorted ``cinexai`` modules that ``roots`` (dotted module names or script paths) import,
    directly or through each other; the module roots themselves included."""
    seen: set[str] = set()
    todo: list[str] = []
    for root in roots:
        if _is_module(root):
            todo.append(str(root))
        else:
            todo.extend(imports(Path(root)))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = module_file(name)
        if path is None:
            raise ModuleNotFoundError(f"no source file for module {name!r} in {PACKAGE_DIR}")
        seen.add(name)
        todo.extend(imports(path, name) - seen)
    return sorted(seen)


def _is_module(root: str | Path) -> bool:
    return isinstance(root, str) and not root.endswith(".py") and root.split(".")[0] == PACKAGE


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:]
    return tree


def file_digest(path: Path) -> str:
    """Digest of one file's code: its AST dump without docstrings (comments never reach the AST)."""
    return _parsed(path).digest


def code_hash(*roots: str | Path) -> str:
    """Short hash of the code that ``roots`` (script paths or module names) run inside ``cinexai``.

    Editing any module of the closure (or a script root) changes it; editing a module outside it,
    or only a comment or docstring, does not.
    """
    return _digest(
        [("script", file_digest(Path(r))) for r in roots if not _is_module(r)]
        + [(name, file_digest(module_file(name))) for name in closure(*roots)]  # type: ignore[arg-type]
    )


def _digest(parts: Iterable[tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for label, text in parts:
        h.update(f"{label}\0{len(text)}\0{text}".encode())
    return h.hexdigest()[:16]
