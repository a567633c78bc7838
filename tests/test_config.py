"""Config validation: the JSON schema and the relational checks reject bad config by key name."""

from __future__ import annotations

import pytest

from cinexai.config import ConfigError, check_config, validate_schema


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
        (lambda c: c.update(dataset="ptbxl"), "ptbxl_dir"),
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


def test_time_mask_schema_rejects_bad_probability(default_config):
    default_config["models"]["augment"]["time_mask"]["probability"] = 1.5
    with pytest.raises(ConfigError, match="models.augment.time_mask.probability"):
        validate_schema(default_config)
