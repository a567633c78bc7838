"""Registry of attribution methods and resolution of named config instances.

A method is one module in :mod:`cinexai.attribution` whose ``attribute`` function is decorated with
:func:`register`, so adding a method is one module plus one ``methods:`` config entry.  The
registry reads each module's declaration -- the arguments of its ``@register(...)`` -- from the
module's syntax tree without importing it: building the Snakemake DAG resolves and checks every
instance without importing torch, captum, shap or lime.  Those arguments are therefore literals,
module-level constants and the checks of this module (:func:`integer`, :func:`number`,
:func:`choice`, :func:`optional`, :func:`any_of`, :func:`matches`); the module is imported when
its function is first used (:attr:`MethodSpec.fn`).

Config entries are *named instances*: ``config["methods"][instance]`` is a dict whose optional key
``method`` names the registered method (default: the instance name) and whose optional key
``model`` (``trained`` | ``randomized``) picks the model to attribute and whose optional key
``architectures`` narrows the architectures it runs on (:mod:`cinexai.grid`); every other key is a
method parameter, checked against the method's defaults so that a typo is an error, not a silent default,
and against the value check the method declares for it (``register(..., params=...)``), so that a
bad value fails when the DAG is built, naming its key, rather than deep inside a job.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Instance keys that are not method parameters.
INSTANCE_KEYS = ("method", "model", "architectures")
#: Values of an instance's ``model`` key.
MODEL_CHOICES = ("trained", "randomized")
#: The module each model variant needs beyond the attribution stage, imported by name by that
#: stage so that only the instances of the variant hash it (:func:`instance_modules`).
VARIANT_MODULES: dict[str, str | None] = {"trained": None, "randomized": "cinexai.models.randomize"}
#: Modules of this package that define no method (not scanned for registrations).
_HELPER_MODULES = frozenset({"registry", "base", "mapping", "run"})

_REGISTRY: dict[str, MethodSpec] = {}
#: The registered functions, filled as method modules are imported.
_FUNCTIONS: dict[str, Callable[..., Any]] = {}
_discovered = False

#: A parameter check: ``None`` when the value is fine, else what the value must be.
Check = Callable[[Any], str | None]


class ParamError(ValueError):
    """A method parameter has a bad value; ``key`` is its config key (``methods.lime.num_samples``)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key, self.reason = key, reason


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def integer(minimum: int = 1, words: tuple[str, ...] = ()) -> Check:
    """An integer ``>= minimum`` (or one of ``words``, e.g. ``auto``)."""
    what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    what += "".join(f" or {w!r}" for w in words)

    def check(value: Any) -> str | None:
        if isinstance(value, str) and value.lower() in words:
            return None
        return None if _is_int(value) and value >= minimum else f"must be {what}"

    return check


def number(minimum: float = 0.0, positive: bool = False) -> Check:
    """A number ``>= minimum`` (``> minimum`` if ``positive``)."""
    what = f"a number {'>' if positive else '>='} {minimum:g}"

    def check(value: Any) -> str | None:
        ok = _is_number(value) and (value > minimum if positive else value >= minimum)
        return None if ok else f"must be {what}"

    return check


def choice(*values: Any) -> Check:
    """One of ``values``."""

    def check(value: Any) -> str | None:
        return None if value in values else f"must be one of {list(values)}"

    return check


def optional(inner: Check) -> Check:
    """``null`` or a value passing ``inner``."""

    def check(value: Any) -> str | None:
        problem = None if value is None else inner(value)
        return None if problem is None else f"{problem} or null"

    return check


def any_of(*checks: Check, what: str) -> Check:
    """A value passing any of ``checks``; else it must be ``what``."""

    def check(value: Any) -> str | None:
        return None if any(c(value) is None for c in checks) else f"must be {what}"

    return check


def matches(pattern: str) -> Check:
    """A string matching regular expression ``pattern`` in full (case-insensitive)."""

    def check(value: Any) -> str | None:
        ok = isinstance(value, str) and re.fullmatch(pattern, value, re.IGNORECASE) is not None
        return None if ok else f"must match {pattern!r}"

    return check


@dataclass(frozen=True)
class MethodSpec:
    """A registered method: its module, parameter defaults and checks, and kind.

    ``model_free`` methods (the random control) produce Phi directly: Eq. 1 and the one-pass
    choice do not apply to them.  ``intrinsic`` methods read the model's own explanation
    (``ctx.model``) and return Phi of Eq. 1 themselves, on the logits, in one pass.
    """

    name: str
    module: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    model_free: bool = False
    params: Mapping[str, Check] = field(default_factory=dict)
    intrinsic: bool = False

    @property
    def fn(self) -> Callable[..., Any]:
        """The ``attribute`` function (its module is imported on first use)."""
        if self.name not in _FUNCTIONS:
            importlib.import_module(self.module)
        return _FUNCTIONS[self.name]


def _spec(
    module: str,
    name: str,
    defaults: Mapping[str, Any] | None = None,
    model_free: bool = False,
    params: Mapping[str, Check] | None = None,
    intrinsic: bool = False,
) -> MethodSpec:
    """A :class:`MethodSpec` from :func:`register`'s arguments (checks need a default)."""
    unchecked = sorted(set(params or {}) - set(defaults or {}))
    if unchecked:
        raise ValueError(f"method {name!r}: checks for parameter(s) without a default {unchecked}")
    return MethodSpec(
        name, module, dict(defaults or {}), bool(model_free), dict(params or {}), bool(intrinsic)
    )


def register(
    name: str,
    defaults: Mapping[str, Any] | None = None,
    model_free: bool = False,
    params: Mapping[str, Check] | None = None,
    intrinsic: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering ``attribute(forward, x, ctx, target)`` under ``name``.

    ``params`` maps parameter names (a subset of ``defaults``) to value checks, run by
    :func:`resolve` on every configured instance.  In a method module of this package the
    arguments must be readable without importing the module (see the module docstring).
    """
    _spec("", name, defaults, model_free, params, intrinsic)  # fail before decorating

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.module != fn.__module__:
            raise ValueError(
                f"attribution method {name!r} registered twice "
                f"({existing.module} and {fn.__module__})"
            )
        _REGISTRY[name] = _spec(fn.__module__, name, defaults, model_free, params, intrinsic)
        _FUNCTIONS[name] = fn
        return fn

    return decorate


#: What a declaration may call: the checks of this module.
_CHECKS: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (integer, number, choice, optional, any_of, matches)
}
_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


class _NotStatic(ValueError):
    """An expression that cannot be evaluated without importing its module."""


def _evaluate(node: ast.expr, names: Mapping[str, Any]) -> Any:
    """Value of a declaration expression: literals, names of ``names``, containers, arithmetic
    and calls of the checks of this module."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in names:
            return names[node.id]
        raise _NotStatic(node.id)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        items = []
        for elt in node.elts:
            if isinstance(elt, ast.Starred):
                items.extend(_evaluate(elt.value, names))
            else:
                items.append(_evaluate(elt, names))
        return {ast.Tuple: tuple, ast.List: list, ast.Set: set}[type(node)](items)
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {
            _evaluate(k, names): _evaluate(v, names)  # type: ignore[arg-type]
            for k, v in zip(node.keys, node.values, strict=True)
        }
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.operand, names))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left, names), _evaluate(node.right, names)
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CHECKS:
        args, kwargs = _arguments(node, names)
        return _CHECKS[node.func.id](*args, **kwargs)
    raise _NotStatic(ast.unparse(node))


def _arguments(call: ast.Call, names: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    args: list[Any] = []
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            args.extend(_evaluate(arg.value, names))
        else:
            args.append(_evaluate(arg, names))
    kwargs = {k.arg: _evaluate(k.value, names) for k in call.keywords if k.arg is not None}
    if any(k.arg is None for k in call.keywords):
        raise _NotStatic("**kwargs")
    return args, kwargs


def _is_register(node: ast.expr) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    return (isinstance(func, ast.Name) and func.id == "register") or (
        isinstance(func, ast.Attribute) and func.attr == "register"
    )


def declarations(path: Path, module: str) -> list[MethodSpec]:
    """The methods that module ``module`` (file ``path``) registers, read from its syntax tree.

    Module-level constants are evaluated in order (those that are not static are skipped); the
    arguments of each ``@register(...)`` must evaluate, else ValueError names the module.
    """
    tree = ast.parse(path.read_bytes(), filename=str(path))
    names: dict[str, Any] = dict(_CHECKS)
    specs = []
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else []
        if isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets = [stmt.target]
        value = getattr(stmt, "value", None)
        for target in targets:
            if isinstance(target, ast.Name) and value is not None:
                try:
                    names[target.id] = _evaluate(value, names)
                except (_NotStatic, TypeError, ValueError, ArithmeticError):
                    names.pop(target.id, None)
        for deco in getattr(stmt, "decorator_list", []):
            if not _is_register(deco):
                continue
            try:
                args, kwargs = _arguments(deco, names)
            except _NotStatic as exc:
                raise ValueError(
                    f"{module}: @register(...) must be readable without importing the module "
                    f"(literals, module constants and registry checks); {exc} is not"
                ) from None
            bound = inspect.signature(register).bind(*args, **kwargs)
            specs.append(_spec(module, *bound.args, **bound.kwargs))
    return specs


def _discover() -> None:
    """Read every method module's declaration once (without importing the module)."""
    global _discovered
    if _discovered:
        return
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        if path.stem in _HELPER_MODULES or path.stem.startswith("_"):
            continue
        for spec in declarations(path, f"{__package__}.{path.stem}"):
            existing = _REGISTRY.get(spec.name)
            if existing is not None and existing.module != spec.module:
                raise ValueError(
                    f"attribution method {spec.name!r} registered twice "
                    f"({existing.module} and {spec.module})"
                )
            _REGISTRY[spec.name] = spec
    _discovered = True


def available() -> list[str]:
    """Sorted names of the registered methods."""
    _discover()
    return sorted(_REGISTRY)


def get(name: str) -> MethodSpec:
    """The registered method ``name``; KeyError lists the available ones."""
    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown attribution method {name!r}; registered: {available()}") from None


def module_of(name: str) -> str:
    """Dotted name of the module that defines method ``name`` (hashed by the Snakemake rule)."""
    return get(name).module


def resolve(
    instance_name: str, instance_cfg: Mapping[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """Map a config instance to ``(registered_name, params)``, params = defaults updated by config.

    Raises KeyError for an unknown method and ValueError for an unknown parameter or ``model``
    value, both naming the instance, and :class:`ParamError` naming the key of a parameter whose
    value fails the method's check.
    """
    cfg = dict(instance_cfg or {})
    registered = str(cfg.get("method", instance_name))
    try:
        spec = get(registered)
    except KeyError as exc:
        raise KeyError(f"methods.{instance_name}: {exc.args[0]}") from None
    model = cfg.get("model", "trained")
    if model not in MODEL_CHOICES:
        raise ValueError(
            f"methods.{instance_name}.model must be one of {MODEL_CHOICES}, got {model!r}"
        )
    params = {k: v for k, v in cfg.items() if k not in INSTANCE_KEYS}
    unknown = sorted(set(params) - set(spec.defaults))
    if unknown:
        raise ValueError(
            f"methods.{instance_name}: unknown parameter(s) {unknown} for method "
            f"{registered!r}; allowed: {sorted(spec.defaults)}"
        )
    for key, value in params.items():
        check = spec.params.get(key)
        problem = check(value) if check is not None else None
        if problem is not None:
            raise ParamError(
                f"methods.{instance_name}.{key}", f"{problem}, got {value!r}{_string_hint(value)}"
            )
    return registered, {**spec.defaults, **params}


def _string_hint(value: Any) -> str:
    """Why a number may arrive as a string: Snakemake's ``--config`` reads nested values so."""
    try:
        float(value if isinstance(value, str) else "x")
    except ValueError:
        return ""
    return (
        " (a string: snakemake --config passes nested values as strings; set it in a config file)"
    )


def model_variant(instance_cfg: Mapping[str, Any] | None) -> str:
    """``trained`` or ``randomized``: which model an instance attributes."""
    return str((instance_cfg or {}).get("model", "trained"))


def instance_modules(instance_name: str, instance_cfg: Mapping[str, Any] | None) -> list[str]:
    """The modules an instance runs that the attribution stage imports by name: its method's and
    its model variant's. The rule hashes them with the stage (editing LIME reruns only LIME)."""
    registered, _ = resolve(instance_name, instance_cfg)
    variant = VARIANT_MODULES[model_variant(instance_cfg)]
    return [module_of(registered)] + ([variant] if variant else [])
