"""Configuration: schema defaults and validation, and the checks a JSON schema cannot express.

The schema (``cinexai/schemas/config.schema.yaml``, shipped as package data) is the one home of
every default: :func:`fill_defaults` gives each absent key its schema ``default:`` (nested sections
too, as Snakemake's ``validate(..., set_default=True)`` does), so a config file names only what it
changes. The schema rejects unknown keys and bad values; :func:`check_config` checks the relations
between keys (split sums to 1, every method instance names a registered method with valid parameter
values on an architecture it is defined for, search ranges are ordered, controls, Table 4 and
figure settings name grid members, sources have a model, PTB-XL has its folder) and that given
paths exist. Each failure raises :class:`ConfigError` naming the key."""

from __future__ import annotations

import copy
import functools
import math
from pathlib import Path
from typing import Any, NamedTuple

import jsonschema
import yaml

SCHEMA = Path(__file__).resolve().parent / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the key."""


@functools.cache
def _schema(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _fill(instance: dict[str, Any], schema: dict[str, Any]) -> None:
    for key, sub in schema.get("properties", {}).items():
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if isinstance(instance.get(key), dict):
            _fill(instance[key], sub)


def fill_defaults(config: dict[str, Any], schema: str | Path = SCHEMA) -> dict[str, Any]:
    """Give every absent key its schema default, recursing into sections; return ``config``.

    Present keys are kept as they are (also when invalid: validation reports them).
    """
    _fill(config, _schema(Path(schema)))
    return config


def defaults() -> dict[str, Any]:
    """The full default configuration, from the schema alone (a fresh copy)."""
    return fill_defaults({})


def validate_schema(config: dict[str, Any], schema: str | Path = SCHEMA) -> None:
    """Fill schema defaults into ``config``, then validate it; the error names the key path."""
    spec = _schema(Path(schema))
    fill_defaults(config, schema)
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(spec).iter_errors(config)
    )
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "<top level>"
        raise ConfigError(f"config key '{where}': {error.message}")


def check_config(config: dict[str, Any]) -> None:
    """Check the relations between config keys; raise :class:`ConfigError` naming the key."""
    check_dataset(config)
    split = config["data"]["split"]
    if not math.isclose(sum(split), 1.0, abs_tol=1e-6):
        raise ConfigError(f"config key 'data.split': fractions must sum to 1, got {split}")
    models = config["models"]
    if models.get("tune_workers", 1) > models["n_trials"]:
        raise ConfigError(
            f"config key 'models.tune_workers': {models['tune_workers']} workers for "
            f"models.n_trials {models['n_trials']} trials would leave workers without a trial"
        )
    mask = (config["models"].get("augment") or {}).get("time_mask")
    if mask and not mask["width_ms"][0] <= mask["width_ms"][1] <= config["data"]["window_ms"]:
        raise ConfigError(
            f"config key 'models.augment.time_mask.width_ms': need lo <= hi <= "
            f"data.window_ms ({config['data']['window_ms']}), got {mask['width_ms']}"
        )
    for arch, space in config["models"]["architectures"].items():
        check_search_space(space or {}, arch)
    check_methods(config["methods"])
    check_architectures(config)
    for name, entry in config["methods"].items():
        check_cluster_instance(name, entry or {})
    check_table4(config)
    names = set(config["methods"]) | {"oracle"}
    for control in config["evaluation"]["controls"]:
        if control not in names:
            raise ConfigError(
                f"config key 'evaluation.controls': '{control}' is neither a method "
                "instance in 'methods' nor 'oracle'"
            )
    if config["figures"]["method"] not in config["methods"]:
        raise ConfigError(
            f"config key 'figures.method': '{config['figures']['method']}' is not a "
            "method instance in 'methods'"
        )
    check_figure_methods(config)
    if config["figures"]["postprocessing"] not in config["postprocessing"]:
        raise ConfigError("config key 'figures.postprocessing': not in 'postprocessing'")
    missing = set(config["attribution"]["sources"]) - set(config["models"]["modalities"])
    if missing:
        raise ConfigError(
            f"config key 'attribution.sources': {sorted(missing)} has no model in "
            "'models.modalities'"
        )
    if config["attribution"]["mapped"] and "ecg12" not in config["attribution"]["sources"]:
        raise ConfigError(
            "config key 'attribution.mapped': the mapped source needs 'ecg12' in "
            "'attribution.sources'"
        )
    if config.get("annotations") and not Path(config["annotations"]).is_file():
        raise ConfigError(f"config key 'annotations': file {config['annotations']} does not exist")


def check_dataset(config: dict[str, Any]) -> None:
    """Real PTB-XL needs ``ptbxl_dir``, the folder holding ptbxl_database.csv."""
    if config["dataset"] != "ptbxl":
        return
    if not config.get("ptbxl_dir"):
        raise ConfigError(
            "config key 'ptbxl_dir': dataset 'ptbxl' needs ptbxl_dir, the PTB-XL folder "
            "holding ptbxl_database.csv"
        )
    database = Path(config["ptbxl_dir"]) / "ptbxl_database.csv"
    if not database.is_file():
        raise ConfigError(f"config key 'ptbxl_dir': {database} does not exist")


def check_methods(methods: dict[str, Any]) -> None:
    """Every instance names a registered method, with known parameters and valid values."""
    from cinexai.attribution.registry import ParamError, resolve

    for name, entry in methods.items():
        try:  # unknown registered method, parameter or model variant; bad parameter value
            resolve(name, entry or {})
        except ParamError as exc:
            raise ConfigError(f"config key '{exc.key}': {exc.reason}") from None
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"config key 'methods.{name}': {exc.args[0]}") from None


def check_architectures(config: dict[str, Any]) -> None:
    """Every instance runs on a configured architecture its method is defined on (grid.py)."""
    from cinexai import grid

    try:
        grid.check_grid(config)
    except ValueError as exc:
        key, _, reason = str(exc).partition(": ")
        raise ConfigError(f"config key '{key}': {reason}") from None


def check_figure_methods(config: dict[str, Any]) -> None:
    """``figures.method`` runs on ``figures.architecture``; ``figures.intrinsic_method`` is an
    ``imn_weights`` instance on a configured ``imn`` architecture."""
    from cinexai import grid
    from cinexai.attribution.registry import resolve

    fig, methods = config["figures"], config["methods"]
    arch = fig["architecture"]
    if arch not in grid.architectures(config):
        raise ConfigError(
            f"config key 'figures.architecture': {arch!r} is not in models.architectures"
        )
    if arch not in grid.instance_architectures(fig["method"], methods[fig["method"]], config):
        raise ConfigError(
            f"config key 'figures.method': '{fig['method']}' does not run on architecture "
            f"{arch!r} (figures.architecture)"
        )
    intrinsic = fig["intrinsic_method"]
    if intrinsic is None:
        return
    where = "config key 'figures.intrinsic_method'"
    if intrinsic not in methods or resolve(intrinsic, methods[intrinsic])[0] != "imn_weights":
        raise ConfigError(f"{where}: '{intrinsic}' is not an imn_weights instance in 'methods'")
    if "imn" not in grid.instance_architectures(intrinsic, methods[intrinsic], config):
        raise ConfigError(f"{where}: '{intrinsic}' needs the imn architecture (or null)")


class SearchRange(NamedTuple):
    """Bounds of one Optuna range ``[low, high]`` of ``models.architectures.{arch}``."""

    integers: bool  # Optuna draws integers (suggest_int)
    low_min: float  # low must be >= this (> this when ``exclusive``)
    exclusive: bool = False
    below_one: bool = False  # high must be < 1 (a dropout probability)


SEARCH_RANGES = {
    "depth": SearchRange(integers=True, low_min=1),
    "width": SearchRange(integers=True, low_min=1),
    "dropout": SearchRange(integers=False, low_min=0, below_one=True),
    "lr": SearchRange(integers=False, low_min=0, exclusive=True),  # drawn log-uniform
    "l1_lambda": SearchRange(integers=False, low_min=0, exclusive=True),  # drawn log-uniform
}


def check_search_space(space: dict[str, Any], arch: str) -> None:
    """Optuna's ranges are ``[low, high]`` with low <= high, integers where Optuna draws ints."""
    for key, rng in SEARCH_RANGES.items():
        if key not in space:
            continue
        low, high = space[key]
        where = f"config key 'models.architectures.{arch}.{key}'"
        if low > high:
            raise ConfigError(f"{where}: need [low, high] with low <= high, got {space[key]}")
        if rng.integers and not all(float(v).is_integer() for v in (low, high)):
            raise ConfigError(f"{where}: need integer bounds, got {space[key]}")
        too_low = low <= rng.low_min if rng.exclusive else low < rng.low_min
        if too_low or (rng.below_one and high >= 1):
            bounds = f"{'>' if rng.exclusive else '>='} {rng.low_min}"
            bounds += ", high < 1" if rng.below_one else ""
            raise ConfigError(f"{where}: need low {bounds}, got {space[key]}")


def check_table4(config: dict[str, Any]) -> None:
    """``evaluation.table4_method`` is a registered method with an instance in the pool."""
    from cinexai.attribution.registry import available, resolve

    method = config["evaluation"]["table4_method"]
    where = "config key 'evaluation.table4_method'"
    instances = {name: resolve(name, entry or {})[0] for name, entry in config["methods"].items()}
    if method not in available():
        hint = (
            f" ('{method}' is a method instance of '{instances[method]}': name the registered "
            "method, Table 4 picks its best instance)"
            if method in instances
            else ""
        )
        raise ConfigError(
            f"{where}: '{method}' is not a registered method{hint}; registered: {available()}"
        )
    controls = set(config["evaluation"].get("controls", []))
    if not any(m == method and name not in controls for name, m in instances.items()):
        raise ConfigError(
            f"{where}: no instance of '{method}' in 'methods' outside 'evaluation.controls'"
        )


def check_cluster_instance(name: str, entry: dict[str, Any]) -> None:
    """A ``latent_clusters`` instance explains the trained model (K and weighting are checked by
    the method's registered parameter checks in :func:`check_methods`)."""
    from cinexai.attribution.registry import resolve

    registered, _ = resolve(name, entry)
    if registered == "latent_clusters" and entry.get("model", "trained") != "trained":
        raise ConfigError(
            f"config key 'methods.{name}.model': latent clusters explain the trained model"
        )


def load_config(path: str | Path, **overrides: Any) -> dict[str, Any]:
    """Load a YAML config, apply top-level overrides, fill defaults, validate schema and relations."""
    config = yaml.safe_load(Path(path).read_text()) or {}
    config.update(overrides)
    validate_schema(config)
    check_config(config)
    return config
