"""Latent clusters of a CNN's residual blocks, their uncertainty, and the forest that links them to
the prediction; every fitted object is held as plain arrays (saved without pickle, see ``store``).

* Activations: the outputs of the last ``n_layers`` (3) residual blocks (fewer when the model is
  shallower), each linearly interpolated from its own time axis to the input's (200 samples) and
  concatenated over channels: one feature vector per timestamp.
* Clusterer: StandardScaler -> PCA (``pca_components``) -> GaussianMixture with full covariances
  (scikit-learn).  A Gaussian mixture gives soft assignments p(k | t) by Bayes' rule, so the
  uncertainty of a timestamp is the entropy of that posterior, in [0, log K]; PCA keeps the full
  covariances small and well conditioned.  Only the fitted arrays are kept and the posterior is
  recomputed here with scikit-learn's formula (tested against ``predict_proba``), so swapping the
  clusterer means fitting another soft-assignment model into :class:`Clusterer`'s arrays.
* Forest: a RandomForestClassifier on the cluster proportions of each ECG (share of timestamps
  whose most likely cluster is k) that reproduces the CNN's predicted class; shap's TreeExplainer
  gives each cluster's contribution to "abnormal".  The trees are kept as arrays and handed to
  shap in its documented dictionary format.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import entr, logsumexp
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.nn import functional as F

from cinexai.clusters.settings import CFG_DEFAULTS
from cinexai.config import ConfigError

log = logging.getLogger(__name__)

#: Residual blocks whose activations are clustered (the last ones), as in the paper.
N_LAYERS = CFG_DEFAULTS["n_layers"]
#: Values of a cluster instance's ``weighting``: plain Phi, or Phi x (1 - entropy / log K).
WEIGHTINGS = ("none", "certainty")


def residual_blocks(model: nn.Module, instances: Sequence[str]) -> list[nn.Module]:
    """The model's residual blocks (its ``residual_blocks`` property); none -> ConfigError."""
    blocks = list(getattr(model, "residual_blocks", None) or [])
    if not blocks:
        names = ", ".join(f"methods.{name}" for name in instances)
        raise ConfigError(
            f"config key '{names}': latent clusters need a model with residual blocks; "
            f"{type(model).__name__} has none"
        )
    return blocks


@torch.no_grad()
def activations(
    model: nn.Module,
    x: np.ndarray,
    instances: Sequence[str],
    n_layers: int = N_LAYERS,
    batch_size: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-timestamp features ``(N, T, F)`` of the last ``n_layers`` residual blocks at the input's
    time resolution, and the model's softmax probabilities ``(N, n_classes)``."""
    blocks = residual_blocks(model, instances)[-n_layers:]
    device = next(model.parameters()).device
    captured: list[torch.Tensor] = []
    hooks = [b.register_forward_hook(lambda _m, _i, out: captured.append(out)) for b in blocks]
    feats, probs = [], []
    try:
        for start in range(0, len(x), batch_size):
            chunk = torch.as_tensor(x[start : start + batch_size], dtype=torch.float32)
            captured.clear()
            probs.append(torch.softmax(model(chunk.to(device)), dim=1).cpu().numpy())
            t = chunk.shape[-1]
            upsampled = [
                F.interpolate(a, size=t, mode="linear", align_corners=False) for a in captured
            ]
            feats.append(torch.cat(upsampled, dim=1).transpose(1, 2).cpu().numpy())
    finally:
        for hook in hooks:
            hook.remove()
    return np.concatenate(feats).astype(np.float32), np.concatenate(probs).astype(np.float64)


@dataclass
class Clusterer:
    """Fitted StandardScaler -> PCA -> full-covariance Gaussian mixture, as arrays."""

    scaler_mean: np.ndarray  # (F,)
    scaler_scale: np.ndarray  # (F,)
    pca_mean: np.ndarray  # (F,)
    pca_components: np.ndarray  # (P, F)
    weights: np.ndarray  # (K,)
    means: np.ndarray  # (K, P)
    precisions_cholesky: np.ndarray  # (K, P, P)

    @property
    def n_clusters(self) -> int:
        return len(self.weights)

    def proba(self, features: np.ndarray) -> np.ndarray:
        """Soft assignments p(k | t), shape ``features.shape[:-1] + (K,)``, rows summing to 1."""
        flat = np.asarray(features, dtype=np.float64).reshape(-1, features.shape[-1])
        z = ((flat - self.scaler_mean) / self.scaler_scale - self.pca_mean) @ self.pca_components.T
        log_det = np.log(np.diagonal(self.precisions_cholesky, axis1=1, axis2=2)).sum(axis=1)
        log_prob = np.empty((len(z), self.n_clusters))
        for k in range(self.n_clusters):
            y = (z - self.means[k]) @ self.precisions_cholesky[k]
            log_prob[:, k] = -0.5 * (z.shape[1] * np.log(2 * np.pi) + (y**2).sum(axis=1))
        weighted = log_prob + log_det + np.log(self.weights)
        resp = np.exp(weighted - logsumexp(weighted, axis=1, keepdims=True))
        return resp.reshape(*features.shape[:-1], self.n_clusters)


def fit_clusterer(
    features: np.ndarray, n_clusters: int, n_components: int, seed: int, max_iter: int = 200
) -> Clusterer:
    """Fit the clusterer on ``features`` ``(M, F)`` (timestamps of the training split)."""
    scaler = StandardScaler().fit(features)
    z = scaler.transform(features)
    pca = PCA(n_components=min(n_components, *z.shape), random_state=seed).fit(z)
    gmm = GaussianMixture(
        n_clusters, covariance_type="full", random_state=seed, max_iter=max_iter
    ).fit(pca.transform(z))
    return Clusterer(
        scaler.mean_,
        scaler.scale_,
        pca.mean_,
        pca.components_,
        gmm.weights_,
        gmm.means_,
        gmm.precisions_cholesky_,
    )


def entropy(proba: np.ndarray) -> np.ndarray:
    """Assignment entropy (nats) over the last axis, in [0, log K] (clipped for rounding only)."""
    k = proba.shape[-1]
    return np.clip(entr(proba).sum(axis=-1), 0.0, np.log(k))


def proportions(labels: np.ndarray, n_clusters: int) -> np.ndarray:
    """Share of each ECG's timestamps in each cluster: ``(N, T)`` labels -> ``(N, K)``."""
    counts = np.stack([(labels == k).sum(axis=1) for k in range(n_clusters)], axis=1)
    return counts / labels.shape[1]


@dataclass
class Forest:
    """A fitted RandomForestClassifier's trees as concatenated node arrays (``offsets``: per-tree
    start indices, length n_trees + 1); ``value`` holds class fractions per node."""

    children_left: np.ndarray
    children_right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray  # (n_nodes, n_classes)
    node_weight: np.ndarray
    offsets: np.ndarray

    @property
    def n_trees(self) -> int:
        return len(self.offsets) - 1

    def _tree(self, i: int) -> slice:
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Mean of the trees' leaf class fractions (scikit-learn's rule, float32 inputs)."""
        X = np.asarray(X, dtype=np.float32).astype(np.float64)
        rows = np.arange(len(X))
        total = np.zeros((len(X), self.value.shape[1]))
        for i in range(self.n_trees):
            s = self._tree(i)
            left, right = self.children_left[s], self.children_right[s]
            feat, thr = self.feature[s], self.threshold[s]
            node = np.zeros(len(X), dtype=np.int64)
            while True:
                inner = left[node] != -1
                if not inner.any():
                    break
                go_left = X[rows, np.maximum(feat[node], 0)] <= thr[node]
                node = np.where(inner, np.where(go_left, left[node], right[node]), node)
            total += self.value[s][node]
        return total / self.n_trees

    def shap_model(self) -> dict:
        """The forest in shap's TreeExplainer dictionary format (trees averaged)."""
        trees = []
        for i in range(self.n_trees):
            s = self._tree(i)
            trees.append(
                {
                    "children_left": self.children_left[s].astype(np.int32),
                    "children_right": self.children_right[s].astype(np.int32),
                    "children_default": self.children_left[s].astype(np.int32),
                    "features": self.feature[s].astype(np.int32),
                    "thresholds": self.threshold[s].astype(np.float64),
                    "values": self.value[s] / self.n_trees,
                    "node_sample_weight": self.node_weight[s].astype(np.float64),
                }
            )
        return {
            "trees": trees,
            "input_dtype": np.float32,
            "internal_dtype": np.float64,
            "tree_output": "probability",
            "base_offset": 0.0,
        }

    def contributions(self, X: np.ndarray, cls: int = 1) -> np.ndarray:
        """shap TreeExplainer values ``(N, K)`` of each feature (cluster) to class ``cls``."""
        import shap

        values = shap.TreeExplainer(self.shap_model()).shap_values(np.asarray(X, np.float32))
        values = np.asarray(values)
        return values[..., cls] if values.ndim == 3 else values


def fit_forest(X: np.ndarray, y: np.ndarray, n_trees: int, min_leaf: int, seed: int) -> Forest:
    """RandomForestClassifier on cluster proportions ``X`` reproducing the CNN's classes ``y``.

    If the CNN predicts a single class on the training split, the forest is constant (every
    contribution 0); that is logged, not hidden, and its node values still have both columns.
    """
    rf = RandomForestClassifier(
        n_estimators=n_trees, min_samples_leaf=min_leaf, random_state=seed, n_jobs=1
    ).fit(np.asarray(X, np.float32), y)
    classes = np.asarray(rf.classes_, dtype=np.int64)
    if len(classes) < 2:
        log.warning(
            "the CNN predicts only class %s on the training split: the forest is constant and "
            "every cluster contribution is 0",
            classes.tolist(),
        )
    trees = [e.tree_ for e in rf.estimators_]
    sizes = np.array([t.node_count for t in trees])
    value = np.zeros((int(sizes.sum()), 2))
    value[:, classes] = np.concatenate([t.value[:, 0, :] for t in trees])
    return Forest(
        np.concatenate([t.children_left for t in trees]).astype(np.int64),
        np.concatenate([t.children_right for t in trees]).astype(np.int64),
        np.concatenate([t.feature for t in trees]).astype(np.int64),
        np.concatenate([t.threshold for t in trees]),
        value / value.sum(axis=1, keepdims=True),
        np.concatenate([t.weighted_n_node_samples for t in trees]),
        np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
    )


@dataclass
class Explanation:
    """The cluster explanation of N windows: soft assignments, labels, entropy, forest outputs."""

    proba: np.ndarray  # (N, T, K)
    labels: np.ndarray  # (N, T)
    entropy: np.ndarray  # (N, T), nats
    contributions: np.ndarray  # (N, K), shap values to "abnormal"
    forest_proba: np.ndarray  # (N,), forest P(abnormal)
    cnn_proba: np.ndarray  # (N, n_classes)

    def phi(self, weighting: str) -> np.ndarray:
        """Phi ``(N, T)``: the contribution of the cluster active at t, optionally x certainty."""
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        phi = np.take_along_axis(self.contributions, self.labels, axis=1)
        if weighting == "certainty":
            phi = phi * (1.0 - self.entropy / np.log(self.proba.shape[-1]))
        return phi


def explain(
    model: nn.Module,
    clusterer: Clusterer,
    forest: Forest,
    x: np.ndarray,
    instances: Sequence[str],
    n_layers: int = N_LAYERS,
) -> Explanation:
    """One forward pass, the soft assignments and the forest's per-cluster contributions."""
    feats, cnn = activations(model, x, instances, n_layers)
    proba = clusterer.proba(feats)
    labels = proba.argmax(axis=-1)
    props = proportions(labels, clusterer.n_clusters)
    return Explanation(
        proba,
        labels,
        entropy(proba),
        forest.contributions(props),
        forest.predict_proba(props)[:, 1],
        cnn,
    )
