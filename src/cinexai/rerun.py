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
import copy
import functools
import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

PACKAGE = "cinexai"
#: The package's source folder.
PACKAGE_DIR = Path(__file__).resolve().parent


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


def _tree(path: Path) -> ast.Module:
    stat = path.stat()  # the key: a file edited within one process is parsed again
    return _parse(path, stat.st_mtime_ns, stat.st_size)


@functools.cache
def _parse(path: Path, mtime_ns: int, size: int) -> ast.Module:
    return ast.parse(path.read_bytes(), filename=str(path))


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imports(path: Path, name: str | None = None) -> set[str]:
    """The ``cinexai`` modules that file ``path`` (module ``name``, None for a script) imports,
    anywhere in it (also inside functions and ``TYPE_CHECKING`` blocks), with their parent
    packages (whose ``__init__`` runs on import)."""
    found: set[str] = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                if name is None:
                    continue  # a relative import in a script: not a package module
                package = _package_of(name, path).split(".")
                anchor = ".".join(package[: len(package) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
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


def file_code(path: Path) -> str:
    """The code of one file as its AST dump, docstrings removed (comments never reach the AST)."""
    tree = _strip_docstrings(copy.deepcopy(_tree(path)))
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def code_hash(*roots: str | Path) -> str:
    """Short hash of the code that ``roots`` (script paths or module names) run inside ``cinexai``.

    Editing any module of the closure (or a script root) changes it; editing a module outside it,
    or only a comment or docstring, does not.
    """
    return _digest(
        [("script", file_code(Path(r).resolve())) for r in roots if not _is_module(r)]
        + [(name, file_code(module_file(name))) for name in closure(*roots)]  # type: ignore[arg-type]
    )


def _digest(parts: Iterable[tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for label, text in parts:
        h.update(f"{label}\0{len(text)}\0{text}".encode())
    return h.hexdigest()[:16]
