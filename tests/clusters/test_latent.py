"""Activations, the array clusterer against scikit-learn, entropy bounds, the forest against
scikit-learn and shap, and Phi."""

from __future__ import annotations

import numpy as np
import pytest
import shap
import torch
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

from cinexai.clusters import latent
from cinexai.config import ConfigError
from cinexai.models.resnet import ResNet1d

T = 200


def _features(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (4, 10))
    return (centres[rng.integers(0, 4, 2000)] + rng.normal(0, 1, (2000, 10))).astype(np.float32)


def test_activations_use_the_last_three_blocks_at_input_resolution() -> None:
    torch.manual_seed(0)
    net = ResNet1d(12, T, depth=4, width=6, kernel_size=5).eval()
    x = np.random.default_rng(0).normal(size=(3, 12, T)).astype(np.float32)
    feats, probs = latent.activations(net, x, ["k"])
    assert feats.shape == (3, T, 3 * 6)
    assert np.allclose(probs, torch.softmax(net(torch.as_tensor(x)), 1).detach().numpy(), atol=1e-6)
    # the last block's output, upsampled, is the last 6 features
    captured = {}
    net.blocks[-1].register_forward_hook(lambda _m, _i, out: captured.setdefault("out", out))
    net(torch.as_tensor(x))
    up = torch.nn.functional.interpolate(captured["out"], size=T, mode="linear")
    assert np.allclose(feats[:, :, -6:], up.transpose(1, 2).detach().numpy(), atol=1e-5)
    shallow = ResNet1d(12, T, depth=1, width=6, kernel_size=5).eval()
    assert latent.activations(shallow, x, ["k"])[0].shape == (3, T, 6)


def test_a_model_without_residual_blocks_is_a_config_error_naming_the_instance() -> None:
    flat = ResNet1d(12, T, depth=0, width=6, kernel_size=5).eval()
    x = np.zeros((1, 12, T), np.float32)
    with pytest.raises(ConfigError, match=r"methods\.latent_clusters_k4.*no|has none"):
        latent.activations(flat, x, ["latent_clusters_k4"])


def test_assignments_sum_to_one_entropy_bounded_and_match_scikit_learn() -> None:
    feats = _features()
    k = 4
    clusterer = latent.fit_clusterer(feats, k, n_components=5, seed=0)
    proba = clusterer.proba(feats.reshape(40, 50, 10))
    assert proba.shape == (40, 50, k)
    assert np.allclose(proba.sum(axis=-1), 1.0)
    h = latent.entropy(proba)
    assert h.min() >= 0 and h.max() <= np.log(k) and h.max() > 0
    # the same pipeline fitted by scikit-learn gives the same posteriors
    z = StandardScaler().fit_transform(feats)
    gmm = GaussianMixture(k, covariance_type="full", random_state=0, max_iter=200)
    expected = gmm.fit(PCA(5, random_state=0).fit_transform(z)).predict_proba(
        PCA(5, random_state=0).fit(z).transform(z)
    )
    assert np.allclose(proba.reshape(-1, k), expected, atol=1e-6)


def test_entropy_extremes() -> None:
    assert latent.entropy(np.array([[1.0, 0.0, 0.0]]))[0] == 0.0
    assert latent.entropy(np.full((1, 3), 1 / 3))[0] == pytest.approx(np.log(3))


def test_forest_arrays_match_scikit_learn_and_shap() -> None:
    rng = np.random.default_rng(1)
    X = rng.dirichlet(np.ones(5), size=120)
    y = (X[:, 0] + 0.1 * rng.normal(size=120) > 0.2).astype(int)
    forest = latent.fit_forest(X, y, n_trees=25, min_leaf=2, seed=0)
    rf = RandomForestClassifier(25, min_samples_leaf=2, random_state=0, n_jobs=1)
    rf.fit(X.astype(np.float32), y)
    assert np.allclose(forest.predict_proba(X), rf.predict_proba(X.astype(np.float32)))
    contrib = forest.contributions(X)
    reference = np.asarray(shap.TreeExplainer(rf).shap_values(X.astype(np.float32)))[..., 1]
    assert contrib.shape == (120, 5) and np.allclose(contrib, reference, atol=1e-9)
    # additivity: base value + contributions = the forest's P(abnormal)
    base = forest.predict_proba(X)[:, 1] - contrib.sum(axis=1)
    assert np.allclose(base, base[0], atol=1e-9)


def test_single_class_forest_is_constant_and_logged(caplog) -> None:
    X = np.random.default_rng(0).dirichlet(np.ones(3), 20)
    forest = latent.fit_forest(X, np.ones(20, int), 5, 1, 0)
    assert np.allclose(forest.predict_proba(X), [[0.0, 1.0]])
    assert np.allclose(forest.contributions(X), 0.0)
    assert "only class [1]" in caplog.text


def test_phi_is_the_active_clusters_contribution_and_certainty_weights_it() -> None:
    proba = np.array([[[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]]])
    ex = latent.Explanation(
        proba,
        proba.argmax(-1),
        latent.entropy(proba),
        np.array([[0.3, -0.2]]),
        np.array([0.6]),
        np.array([[0.4, 0.6]]),
    )
    assert np.allclose(ex.phi("none"), [[0.3, 0.3, -0.2]])
    weighted = ex.phi("certainty")
    assert weighted[0, 1] == pytest.approx(0.0)  # maximal uncertainty -> no weight
    assert np.allclose(weighted, ex.phi("none") * (1 - ex.entropy / np.log(2)))
    with pytest.raises(ValueError, match="weighting"):
        ex.phi("entropy")


def test_explain_end_to_end_on_a_model(cluster_problem) -> None:
    p = cluster_problem
    x = np.random.default_rng(0).normal(size=(30, 12, T)).astype(np.float32)
    feats, cnn = latent.activations(p.net, x, ["k"])
    clusterer = latent.fit_clusterer(feats.reshape(-1, feats.shape[-1]), 3, 4, 0)
    labels = clusterer.proba(feats).argmax(-1)
    y = cnn.argmax(1)
    y[:2] = [0, 1]  # both classes, whatever the random model says
    forest = latent.fit_forest(latent.proportions(labels, 3), y, 10, 1, 0)
    ex = latent.explain(p.net, clusterer, forest, x[:5], ["k"])
    assert ex.labels.shape == (5, T) and np.array_equal(ex.labels, labels[:5])
    assert np.allclose(latent.proportions(ex.labels, 3).sum(1), 1.0)
