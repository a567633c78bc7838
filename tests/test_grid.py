"""grid.py: the one definition of sources, architectures and where each method runs."""

from __future__ import annotations

import copy

import pytest

from cinexai import grid
from cinexai.config import defaults
from cinexai.leads import CINE_CHANNELS, LEADS


def test_sources_name_their_signal_file_model_channels_and_target():
    ecg12, cine, mapped = (grid.source(s) for s in ("ecg12", "cineecg", "mapped"))
    assert (ecg12.signals, ecg12.modality, ecg12.channels, ecg12.target) == (
        "windows", "ecg12", tuple(LEADS), "ecg12")  # fmt: skip
    assert (cine.signals, cine.modality, cine.channels, cine.target) == (
        "cineecg", "cineecg", tuple(CINE_CHANNELS), "cineecg")  # fmt: skip
    assert mapped.mapped and mapped.modality == "ecg12" and mapped.target == "cineecg"
    assert mapped.channels == tuple(CINE_CHANNELS) and not ecg12.mapped
    assert grid.MODALITY_SIGNALS == {"ecg12": "windows", "cineecg": "cineecg"}
    with pytest.raises(ValueError, match="unknown attribution source 'vcg'"):
        grid.source("vcg")


@pytest.mark.parametrize(
    ("modalities", "sources", "mapped", "scored", "targets"),
    [
        (["ecg12", "cineecg"], ["ecg12", "cineecg"], True, ["ecg12", "cineecg", "mapped"],
         ["cineecg", "ecg12"]),
        (["ecg12", "cineecg"], ["ecg12", "cineecg"], False, ["ecg12", "cineecg"],
         ["cineecg", "ecg12"]),
        (["ecg12"], ["ecg12"], True, ["ecg12", "mapped"], ["cineecg", "ecg12"]),
        (["ecg12"], ["ecg12"], False, ["ecg12"], ["ecg12"]),
    ],
)  # fmt: skip
def test_scored_sources_and_targets_follow_the_config(modalities, sources, mapped, scored, targets):
    config = defaults()
    config["models"]["modalities"] = modalities
    config["attribution"].update(sources=sources, mapped=mapped)
    assert grid.scored_sources(config) == scored
    assert grid.targets(config) == targets
    assert grid.sources_of_target(config, "cineecg") == [s for s in scored if s != "ecg12"]


def test_methods_run_where_they_are_defined_and_instances_can_narrow():
    config = defaults()
    resnet, imn = grid.grid_instances(config, "resnet"), grid.grid_instances(config, "imn")
    assert "latent_clusters_k8" in resnet and "latent_clusters_k8" not in imn
    assert {"imn_weights", "imn_weights_raw", "imn_weights_model_randomized"} <= set(imn)
    assert not [m for m in resnet if m.startswith("imn_weights")]
    assert {"integrated_gradients", "lime", "random"} <= set(resnet) & set(imn)
    narrowed = copy.deepcopy(config)
    narrowed["methods"]["lime"]["architectures"] = ["resnet"]
    assert "lime" not in grid.grid_instances(narrowed, "imn")
    assert grid.search_space(config, "imn")["l1_lambda"] == [0.00001, 0.001]


def test_check_grid_names_instance_and_architecture():
    config = defaults()
    config["methods"]["lime"]["architectures"] = ["vit"]
    with pytest.raises(ValueError, match=r"methods\.lime\.architectures: method 'lime' is only"):
        grid.check_grid(config)
    config["methods"]["lime"]["architectures"] = ["imn"]
    del config["models"]["architectures"]["imn"]
    with pytest.raises(
        ValueError, match=r"methods\.lime\.architectures: 'imn' is not in models\.architectures"
    ):
        grid.check_grid(config)
