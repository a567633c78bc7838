"""Localisation metrics of Quantus between importance maps and expert masks, per case.

Relevance Mass Accuracy (Arras et al. 2022: share of the map's mass inside the mask), Relevance
Rank Accuracy (share of the |M| highest-ranked cells inside the mask), AUC (ROC AUC of the map as
a score for the mask) and Top-K intersection (share of the k highest-ranked cells inside the mask)
are computed by the ``quantus`` package itself.

Quantus cannot take our (N, C, T) maps and masks: its localisation metrics expect one mask per
sample shared by all channels (images), and ``quantus.helpers.asserts.assert_segmentations``
rejects a mask with C > 1 channels with ``AssertionError: The second dimension of the
segmentations 's_batch' should be equal to 1.`` (quantus 0.6.0; ``tests/evaluation/
test_localisation.py`` shows it). It cannot skip cells either (unnamed leads are not scored).
Every one of the four metrics flattens each sample's cells before it computes
(``evaluate_batch`` reshapes ``a_batch`` and ``s_batch`` to ``(batch, -1)``), so no metric here is
reimplemented: each case's scored cells are handed to Quantus as a ``(n, 1, n_cells)`` batch, one
batch per number of scored cells, which is the shape Quantus accepts and gives the numbers it
would give an (N, C, T) mask.

Ties: the rank metrics order cells with ``np.argsort(-a)``, whose order among equal values is
unspecified (and SIMD-dispatched per CPU); post-processed maps tie often (``positive`` sets every
negative cell to 0). Quantus therefore receives, for the rank metrics only, the map's cell
ranking with ties broken by a random order seeded by ``[seed, case_id]``
(:func:`cinexai.evaluation.metrics.tie_broken_ranks`, the ranking the faithfulness curves use),
so that the result is one well-defined draw, the same on every machine. Mass accuracy and AUC take the map itself (both
are exact under ties). Quantus refuses a batch of constant maps (``AssertionError: The elements in
the attribution vector are all equal to zero ...``, ``... all equal to one ...``, ``The
attributions are uniformly distributed ...``): a case whose map is constant over its scored cells
gets NaN mass accuracy and AUC with the reason "constant map over the scored cells" (as Spearman
does), its rank metrics stay defined (the seeded random order).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import quantus

from cinexai.evaluation.metrics import tie_broken_ranks

log = logging.getLogger(__name__)

#: Per-case columns this module adds to a score file, in order.
COLUMNS = ("relevance_mass_accuracy", "relevance_rank_accuracy", "localisation_auc", "top_k")


def _quantus(metric: Any, maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Run a Quantus metric on ``(n, n_cells)`` maps and masks as an ``(n, 1, n_cells)`` batch."""
    a = maps[:, None, :].astype(np.float64)
    s = masks[:, None, :].astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a degenerate mask gives NaN
        scores = metric(
            model=None,
            x_batch=np.zeros_like(a, dtype=np.float32),
            y_batch=np.zeros(len(a), dtype=np.int64),
            a_batch=a,
            s_batch=s,
            channel_first=True,
            batch_size=max(1, len(a)),
        )
    return np.asarray(scores, dtype=np.float64)


def localisation(
    maps: np.ndarray,
    masks: np.ndarray,
    valid: np.ndarray,
    case_ids: np.ndarray,
    top_k_fraction: float,
    seed: int,
) -> tuple[dict[str, np.ndarray], list[str]]:
    """The four Quantus localisation metrics per case over its scored cells, and a reason per case.

    ``maps`` are post-processed maps in [0, 1], ``masks``/``valid`` boolean, all
    ``(n_cases, n_cells)``; k of Top-K is ``max(1, round(top_k_fraction * n_cells))`` of the case.
    """
    if not 0.0 < top_k_fraction < 1.0:
        raise ValueError(
            f"evaluation.localisation.top_k_fraction must be in (0, 1), got {top_k_fraction}"
        )
    ranks = tie_broken_ranks(maps, valid, case_ids, seed)
    out = {c: np.full(len(maps), np.nan) for c in COLUMNS}
    sizes = np.count_nonzero(valid, axis=1)
    common = {"abs": False, "normalise": False, "disable_warnings": True}
    for size in np.unique(sizes):
        rows = np.flatnonzero(sizes == size)
        cells = valid[rows]
        a, s, r = (v[rows][cells].reshape(len(rows), size) for v in (maps, masks, ranks))
        k = max(1, round(top_k_fraction * int(size)))
        varies = np.ptp(a, axis=1) > 0  # Quantus refuses constant maps (see the module docs)
        if varies.any():
            for name, metric in (
                ("relevance_mass_accuracy", quantus.RelevanceMassAccuracy(**common)),
                ("localisation_auc", quantus.AUC(**common)),
            ):
                out[name][rows[varies]] = _quantus(metric, a[varies], s[varies])
        out["relevance_rank_accuracy"][rows] = _quantus(
            quantus.RelevanceRankAccuracy(**common), r, s
        )
        out["top_k"][rows] = _quantus(quantus.TopKIntersection(k=k, **common), r, s)
    reasons = []
    for k, case in enumerate(case_ids):
        reason = "" if np.ptp(maps[k][valid[k]]) > 0 else "constant map over the scored cells"
        if reason:
            log.warning("mass accuracy and AUC undefined for case %s: %s", case, reason)
        reasons.append(reason)
    return out, reasons
