"""Registry of attribution methods and resolution of named config instances.

A method is one module in :mod:`cinexai.attribution` whose ``attribute`` function is decorated with
:func:`register`.  The package's modules are imported on first use of the registry, so adding a
method is one module plus one ``methods:`` config entry.

Config entries are *named instances*: ``config["methods"][instance]`` is a dict whose optional key
``method`` names the registered method (default: the instance name) and whose optional key
``model`` (``trained`` | ``randomized``) picks the model to attribute and whose optional key
``architectures`` narrows the architectures it runs on (:mod:`cinexai.grid`); every other key is a method
parameter, checked against the method's defaults so that a typo is an error, not a silent default,
and against the value check the method declares for it (``register(..., params=...)``), so that a
bad value fails when the DAG is built, naming its key, rather than deep inside a job.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Instance keys that are not method parameters.
INSTANCE_KEYS = ("method", "model", "architectures")
#: Values of an instance's ``model`` key.
MODEL_CHOICES = ("trained", "randomized")
#: Modules of this package that define no method (not scanned for registrations).
_HELPER_MODULES = frozenset({"registry", "base", "mapping", "run"})

_REGISTRY: dict[str, MethodSpec] = {}
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


@dataclass(frozen=True)
class MethodSpec:
    """A registered method: its ``attribute`` function, parameter defaults and kind.

    ``model_free`` methods (the random control) produce Phi directly: Eq. 1 and the one-pass
    choice do not apply to them.  ``intrinsic`` methods read the model's own explanation
    (``ctx.model``) and return Phi of Eq. 1 themselves, on the logits, in one pass.
    """

    name: str
    fn: Callable[..., Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    model_free: bool = False
    params: Mapping[str, Check] = field(default_factory=dict)
    intrinsic: bool = False

    @property
    def module(self) -> str:
        return self.fn.__module__


def register(
    name: str,
    defaults: Mapping[str, Any] | None = None,
    model_free: bool = False,
    params: Mapping[str, Check] | None = None,
    intrinsic: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering ``attribute(forward, x, ctx, target)`` under ``name``.

    ``params`` maps parameter names (a subset of ``defaults``) to value checks, run by
    :func:`resolve` on every configured instance.
    """
    unchecked = sorted(set(params or {}) - set(defaults or {}))
    if unchecked:
        raise ValueError(f"method {name!r}: checks for parameter(s) without a default {unchecked}")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.module != fn.__module__:
            raise ValueError(
                f"attribution method {name!r} registered twice "
                f"({existing.module} and {fn.__module__})"
            )
        _REGISTRY[name] = MethodSpec(
            name, fn, dict(defaults or {}), model_free, dict(params or {}), intrinsic
        )
        return fn

    return decorate


def _discover() -> None:
    """Import every method module of the package once (they register on import)."""
    global _discovered
    if _discovered:
        return
    package = importlib.import_module("cinexai.attribution")
    for info in pkgutil.iter_modules(package.__path__):
        if info.name not in _HELPER_MODULES and not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
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
