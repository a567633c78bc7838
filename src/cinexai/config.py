"""Configuration checks that a JSON schema cannot express, run when the DAG is built.

The schema (``cinexai/schemas/config.schema.yaml``, shipped as package data) rejects unknown
keys and bad values; this module checks the relations between keys (split sums to 1, every
method instance names a registered method, controls and figure settings name grid members,
sources have a model) and that given paths exist. Each failure raises :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA = Path(__file__).resolve().parent / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the key."""


def validate_schema(config: dict[str, Any], schema: str | Path = SCHEMA) -> None:
    """Validate against the JSON schema; the error names the offending key path."""
    spec = yaml.safe_load(Path(schema).read_text())
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(spec).iter_errors(config)
    )
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "<top level>"
        raise ConfigError(f"config key '{where}': {error.message}")


def check_config(config: dict[str, Any]) -> None:
    """Check the relations between config keys; raise :class:`ConfigError` naming the key."""
    from cinexai.attribution.registry import resolve

    split = config["data"]["split"]
    if not math.isclose(sum(split), 1.0, abs_tol=1e-6):
        raise ConfigError(f"config key 'data.split': fractions must sum to 1, got {split}")
    mask = (config["models"].get("augment") or {}).get("time_mask")
    if mask and not mask["width_ms"][0] <= mask["width_ms"][1] <= config["data"]["window_ms"]:
        raise ConfigError(
            f"config key 'models.augment.time_mask.width_ms': need lo <= hi <= "
            f"data.window_ms ({config['data']['window_ms']}), got {mask['width_ms']}"
        )
    for name, entry in config["methods"].items():
        try:  # unknown registered method, parameter or model variant
            resolve(name, entry or {})
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"config key 'methods.{name}': {exc.args[0]}") from None
        check_cluster_instance(name, entry or {})
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
    if config["dataset"] == "ptbxl":
        database = Path(config["ptbxl_dir"]) / "ptbxl_database.csv"
        if not database.is_file():
            raise ConfigError(f"config key 'ptbxl_dir': {database} does not exist")
    if config.get("annotations") and not Path(config["annotations"]).is_file():
        raise ConfigError(f"config key 'annotations': file {config['annotations']} does not exist")


def check_cluster_instance(name: str, entry: dict[str, Any]) -> None:
    """A ``latent_clusters`` instance needs an integer K >= 2, a known weighting, the trained model."""
    from cinexai.attribution.registry import resolve
    from cinexai.clusters.latent import WEIGHTINGS

    registered, params = resolve(name, entry)
    if registered != "latent_clusters":
        return
    k = params["n_clusters"]
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise ConfigError(
            f"config key 'methods.{name}.n_clusters': need an integer >= 2, got {k!r}"
        )
    if params["weighting"] not in WEIGHTINGS:
        raise ConfigError(
            f"config key 'methods.{name}.weighting': must be one of {WEIGHTINGS}, "
            f"got {params['weighting']!r}"
        )
    if entry.get("model", "trained") != "trained":
        raise ConfigError(
            f"config key 'methods.{name}.model': latent clusters explain the trained model"
        )


def load_config(path: str | Path, **overrides: Any) -> dict[str, Any]:
    """Load a YAML config, apply top-level overrides, validate schema and relations."""
    config = yaml.safe_load(Path(path).read_text())
    config.update(overrides)
    validate_schema(config)
    check_config(config)
    return config
