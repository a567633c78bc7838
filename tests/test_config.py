"""Config: schema defaults (the one home of every default), validation by key name, relations."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
import yaml
from snakemake.utils import validate as snakemake_validate

from cinexai.config import (
    SCHEMA,
    ConfigError,
    check_config,
    defaults,
    fill_defaults,
    load_config,
    validate_schema,
)


def test_default_and_tiny_configs_are_valid(default_config, tiny_config):
    for config in (default_config, tiny_config):
        validate_schema(config)
        check_config(config)


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda c: c.update(bogus=1), "'bogus' was unexpected"),
        (lambda c: c["models"].update(n_trial=3), "'n_trial' was unexpected"),
        (lambda c: c.update(dataset="mimic"), "config key 'dataset'"),
        (lambda c: c["data"].update(window_ms=-5), "config key 'data.window_ms'"),
        (lambda c: c["evaluation"].update(threshold="global"), "config key 'evaluation.threshold'"),
        (lambda c: c["methods"].update(oracle={}), "config key 'methods'"),
        (lambda c: c.update(run=".."), "config key 'run'"),
        (lambda c: c.update(run="a/b"), "config key 'run'"),
        (lambda c: c.update(run="-x"), "config key 'run'"),
        (lambda c: c.update(run=".hidden"), "config key 'run'"),
        (lambda c: c["data"].update(max_abs_mv=0), "config key 'data.max_abs_mv'"),
        (lambda c: c["clusters"].update(pca=3), "'pca' was unexpected"),
        (lambda c: c["clusters"].update(n_trees=0), "config key 'clusters.n_trees'"),
    ],
)
def test_schema_rejects_with_key_name(default_config, mutate, key):
    mutate(default_config)
    with pytest.raises(ConfigError, match=key):
        validate_schema(default_config)


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda c: c["data"].update(split=[0.6, 0.3, 0.2]), "data.split"),
        (lambda c: c["methods"].update(my_ig={"method": "no_such_method"}), "methods.my_ig"),
        (
            lambda c: c["evaluation"].update(controls=["random", "nonexistent"]),
            "evaluation.controls",
        ),
        (lambda c: c["figures"].update(method="nonexistent"), "figures.method"),
        (lambda c: c["models"].update(modalities=["ecg12"]), "attribution.sources"),
        (lambda c: c.update(annotations="/nonexistent/annotations.csv"), "annotations"),
        (lambda c: c.update(dataset="ptbxl", ptbxl_dir="/nonexistent"), "ptbxl_dir"),
        (
            lambda c: c["methods"]["latent_clusters_k4"].update(n_clusters=1),
            r"methods\.latent_clusters_k4\.n_clusters",
        ),
        (
            lambda c: c["methods"]["latent_clusters_k4"].update(weighting="entropy"),
            r"methods\.latent_clusters_k4\.weighting",
        ),
        (
            lambda c: c["methods"]["latent_clusters_k4"].update(model="randomized"),
            r"methods\.latent_clusters_k4\.model",
        ),
        (
            lambda c: c["methods"]["latent_clusters_k4"].update(n_cluster=4),
            r"methods\.latent_clusters_k4",
        ),
        (
            lambda c: c["models"].update(n_trials=2, tune_workers=3),
            r"models\.tune_workers': 3 workers for models\.n_trials 2",
        ),
    ],
)
def test_relations_rejected_with_key_name(default_config, mutate, key):
    mutate(default_config)
    with pytest.raises(ConfigError, match=key):
        check_config(default_config)


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (
            lambda c: c["models"]["augment"]["time_mask"].update(width_ms=[120, 40]),
            "models.augment.time_mask.width_ms",
        ),
        (
            lambda c: c["models"]["augment"]["time_mask"].update(width_ms=[40, 900]),
            "models.augment.time_mask.width_ms",
        ),
    ],
)
def test_time_mask_widths_rejected_with_key_name(default_config, mutate, key):
    mutate(default_config)
    validate_schema(default_config)
    with pytest.raises(ConfigError, match=key):
        check_config(default_config)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("models", "tune_workers", 0),
        ("models", "tune_storage", "optuna.db"),
        ("attribution", "shards", 0),
    ],
)
def test_scale_out_keys_rejected_with_key_name(default_config, section, key, value):
    default_config[section][key] = value
    with pytest.raises(ConfigError, match=f"config key '{section}.{key}'"):
        validate_schema(default_config)


def test_time_mask_schema_rejects_bad_probability(default_config):
    default_config["models"]["augment"]["time_mask"]["probability"] = 1.5
    with pytest.raises(ConfigError, match="models.augment.time_mask.probability"):
        validate_schema(default_config)


def _properties(schema: dict, path: str = "") -> Iterator[tuple[str, dict]]:
    """(dotted key, subschema) of every property, nested sections included."""
    for key, sub in schema.get("properties", {}).items():
        yield f"{path}{key}", sub
        yield from _properties(sub, f"{path}{key}.")


def test_every_schema_property_has_a_default_and_a_description():
    schema = yaml.safe_load(SCHEMA.read_text())
    keys = dict(_properties(schema))
    assert len(keys) > 80 and "models.augment.time_mask.width_ms" in keys
    assert not [k for k, sub in keys.items() if "default" not in sub]
    assert not [k for k, sub in keys.items() if not sub.get("description")]


def test_schema_defaults_are_the_default_config_file(default_config):
    assert defaults() == default_config  # config.yaml spells out the schema defaults, no drift


def test_defaults_pass_validation_and_checks_and_are_fresh_copies():
    config = defaults()
    validate_schema(config)
    check_config(config)
    config["synthetic"]["noise"]["white_mv"] = 9.0
    config["methods"]["lime"]["num_samples"] = 1
    assert defaults()["synthetic"]["noise"]["white_mv"] == 0.02
    assert defaults()["methods"]["lime"]["num_samples"] == 500


def test_fill_defaults_matches_snakemake_validate_set_default():
    minimal = {"dataset": "synthetic", "seed": 1, "synthetic": {"noise": {"white_mv": 0.05}}}
    ours = fill_defaults(copy.deepcopy(minimal))
    theirs = copy.deepcopy(minimal)
    snakemake_validate(theirs, str(SCHEMA), set_default=True)
    assert ours == theirs
    assert ours["synthetic"]["noise"] == {**defaults()["synthetic"]["noise"], "white_mv": 0.05}
    assert ours["models"]["augment"]["time_mask"] == {"probability": 0.5, "width_ms": [40, 120]}


def test_load_config_of_a_few_keys_gives_the_full_default(tmp_path):
    path = tmp_path / "my.yaml"
    path.write_text("dataset: synthetic\nseed: 1\nfigures: {dpi: 120}\n")
    config = load_config(path)
    expected = defaults()
    expected["seed"] = 1
    expected["figures"]["dpi"] = 120
    assert config == expected
    (tmp_path / "empty.yaml").write_text("")
    assert load_config(tmp_path / "empty.yaml", seed=3) == {**defaults(), "seed": 3}


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("seed: 1\nsynthetic: {n_patient: 10}\n", "'n_patient' was unexpected"),
        ("seed: 1\nfigures: {dpi: 10}\n", "config key 'figures.dpi'"),
        ("seed: 1\nmodels: {augment: {time_mask: {probabilty: 0.2}}}\n", "'probabilty'"),
    ],
)
def test_minimal_config_still_rejects_unknown_keys_and_bad_values(tmp_path, text, key):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=key):
        load_config(path)


@pytest.mark.parametrize("run", ["tiny", "ptbxl_2024-v1.0", "a..b", None])
def test_safe_run_names_pass(default_config, run):
    default_config["run"] = run
    validate_schema(default_config)


def test_ptbxl_without_folder_says_what_it_needs(default_config):
    default_config["dataset"] = "ptbxl"
    validate_schema(default_config)  # the relation is checked (and explained) by check_config
    with pytest.raises(ConfigError) as info:
        check_config(default_config)
    assert str(info.value) == (
        "config key 'ptbxl_dir': dataset 'ptbxl' needs ptbxl_dir, the PTB-XL folder holding "
        "ptbxl_database.csv"
    )


@pytest.mark.parametrize(
    ("method", "key", "value", "message"),
    [
        ("lime", "num_samples", -5, "must be a positive integer, got -5"),
        ("lime", "num_samples", "many", "must be a positive integer, got 'many'"),
        ("lime", "num_features", 0, "must be a positive integer or 'all', got 0"),
        ("lime", "kernel_width", -1.0, "must be a number > 0 or null, got -1.0"),
        ("lime", "feature_selection", "best", "must be one of"),
        ("integrated_gradients", "n_steps", 0, "must be a positive integer, got 0"),
        ("integrated_gradients", "nt_samples", -1, "must be an integer >= 0, got -1"),
        ("integrated_gradients", "stdev", "wide", "must be a number >= 0, got 'wide'"),
        ("integrated_gradients", "nt_type", "smooth", "must be one of"),
        ("gradient_shap", "n_samples", 2.5, "must be a positive integer, got 2.5"),
        ("kernel_shap", "nsamples", "lots", "must be a positive integer or 'auto', got 'lots'"),
        ("kernel_shap", "l1_reg", "num_features(x)", "must be false, a number >= 0"),
        ("kernel_shap", "background", "zero", "must be one of"),
    ],
)
def test_method_parameter_values_rejected_naming_the_key(
    default_config, method, key, value, message
):
    default_config["methods"][method][key] = value
    validate_schema(default_config)
    with pytest.raises(ConfigError) as info:
        check_config(default_config)
    assert str(info.value).startswith(f"config key 'methods.{method}.{key}': {message}")


def test_method_parameter_check_names_the_instance_key(default_config):
    default_config["methods"]["integrated_gradients_normal_ref"]["n_steps"] = -1
    with pytest.raises(ConfigError, match="'methods.integrated_gradients_normal_ref.n_steps'"):
        check_config(default_config)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("depth", [3, 1], "need [low, high] with low <= high, got [3, 1]"),
        ("width", [16.5, 32], "need integer bounds, got [16.5, 32]"),
        ("depth", [0, 2], "need low >= 1, got [0, 2]"),
        ("lr", [0, 0.01], "need low > 0, got [0, 0.01]"),
        ("dropout", [0.1, 1.0], "need low >= 0, high < 1, got [0.1, 1.0]"),
        ("dropout", [0.5, 0.1], "need [low, high] with low <= high, got [0.5, 0.1]"),
    ],
)
def test_search_ranges_rejected_naming_the_key(default_config, key, value, message):
    default_config["models"]["architectures"]["resnet"][key] = value
    validate_schema(default_config)
    with pytest.raises(ConfigError) as info:
        check_config(default_config)
    assert str(info.value) == f"config key 'models.architectures.resnet.{key}': {message}"


def test_imn_search_range_rejected_naming_architecture_and_key(default_config):
    default_config["models"]["architectures"]["imn"]["l1_lambda"] = [0, 0.001]
    with pytest.raises(ConfigError, match=r"'models\.architectures\.imn\.l1_lambda': need low > 0"):
        check_config(default_config)


def test_unknown_architecture_and_incomplete_space_rejected_by_the_schema(default_config):
    config = copy.deepcopy(default_config)
    config["models"]["architectures"]["vit"] = {}
    with pytest.raises(ConfigError, match="'vit' was unexpected|does not match any of the regexes"):
        validate_schema(config)
    del default_config["models"]["architectures"]["imn"]["l1_lambda"]
    with pytest.raises(ConfigError, match="models.architectures.imn"):
        validate_schema(default_config)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda c: c["methods"]["imn_weights"].update(architectures=["resnet"]),
            "config key 'methods.imn_weights.architectures': method 'imn_weights' is only "
            "defined for architecture(s) ['imn'], not 'resnet'",
        ),
        (
            lambda c: c["methods"]["latent_clusters_k4"].update(architectures=["imn"]),
            "config key 'methods.latent_clusters_k4.architectures': method 'latent_clusters' is "
            "only defined for architecture(s) ['resnet'], not 'imn'",
        ),
        (
            lambda c: (
                c["methods"].update(my_w={"method": "imn_weights"})
                or c["models"]["architectures"].pop("imn")
            ),
            "config key 'methods.imn_weights': method 'imn_weights' is only defined for "
            "architecture(s) ['imn'], none of which is in models.architectures ['resnet']",
        ),
        (
            lambda c: c["figures"].update(intrinsic_method="lime"),
            "config key 'figures.intrinsic_method': 'lime' is not an imn_weights instance",
        ),
        (
            lambda c: c["figures"].update(method="imn_weights"),
            "config key 'figures.method': 'imn_weights' does not run on architecture 'resnet'",
        ),
    ],
)
def test_method_on_an_architecture_it_is_not_defined_for_is_rejected(
    default_config, mutate, message
):
    """Naming the instance and the architecture (grid.py decides where a method runs)."""
    mutate(default_config)
    with pytest.raises(ConfigError) as info:
        check_config(default_config)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nonexistent", "'nonexistent' is not a registered method; registered: ["),
        (
            "integrated_gradients_normal_ref",
            "'integrated_gradients_normal_ref' is a method instance of 'integrated_gradients'",
        ),
    ],
)
def test_table4_method_must_be_registered(default_config, value, message):
    default_config["evaluation"]["table4_method"] = value
    with pytest.raises(ConfigError, match="config key 'evaluation.table4_method'") as info:
        check_config(default_config)
    assert message in str(info.value)


def test_table4_method_needs_an_instance_outside_the_controls(default_config):
    default_config["evaluation"]["table4_method"] = "random"  # registered, only a control here
    with pytest.raises(ConfigError, match="no instance of 'random'"):
        check_config(default_config)
    default_config["evaluation"]["table4_method"] = "lime"
    check_config(default_config)
