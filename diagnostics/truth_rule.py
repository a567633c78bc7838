"""Does the synthetic truth reward a map that merely follows the input?  Generator-level check.

For synthetic evaluation-like cases (noise-free beats in the 0-400 ms window from QRS onset, the
12-lead target), scores three model-free maps against the truth exactly as the grid does
(absolute post-processing, one threshold per configuration chosen on a 0.01 grid, Dice inside the
leads the truth names, all-salient floor 2p/(1+p)):

* ``|x|``: the beat itself;
* ``|x - ref|``: deviation from the mean of a normal reference pool of other patients' beats;
* ``random``: i.i.d. noise (the floor a map without information reaches).

Normal cases under both normal-truth rules (``beat_peak``: the earlier rule, ``normal_spread``:
the rule kept, see docs/truth.md); abnormal cases without the cohort's normal variants, with them at
their default rates, and with every variant in every patient (an upper bound of their effect).  Run:

    python diagnostics/truth_rule.py [--n 120] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np

from cinexai.config import defaults
from cinexai.data import dipole, synthetic

T_MS = np.arange(0.0, synthetic.WINDOW_MS, 1000.0 / synthetic.FS_HR)


def beat_of(seed: int, p: int, variants_cfg: dict) -> dipole.Beat:
    """Patient ``p``'s noise-free normal beat at its mean rate, with its drawn normal variants."""
    patient = dipole.draw_patient(np.random.default_rng([seed, 2, p]))
    variants = dipole.draw_variants(np.random.default_rng([seed, 6, p]), variants_cfg)
    return dipole.apply_variants(
        dipole.normal_beat(patient, 60000.0 / patient.heart_rate), variants
    )


def cell_mask(truth: np.ndarray, gap_ms: float) -> np.ndarray:
    """The truth as the grid sees it: protocol segments per lead turned back into cells."""
    out = np.zeros_like(truth)
    for lead, row in enumerate(truth):
        for s, e in synthetic.mask_to_segments(row, gap_ms):
            out[lead, (s <= T_MS) & (e > T_MS)] = True
    return out


def best_dice(maps: list[np.ndarray], truths: list[np.ndarray]) -> tuple[float, float, float]:
    """Mean Dice at the best common threshold, the threshold, and the mean all-salient floor."""
    grid = np.round(np.arange(0.0, 1.0, 0.01), 2)
    dice = np.zeros((len(maps), len(grid)))
    floors = []
    for i, (phi, truth) in enumerate(zip(maps, truths)):
        named = truth.any(axis=1)
        m, t = phi[named] / phi[named].max(), truth[named]
        p = t.mean()
        floors.append(2 * p / (1 + p))
        for j, thr in enumerate(grid):
            pred = m > thr if thr > 0 else m >= 0
            dice[i, j] = 2 * (pred & t).sum() / (pred.sum() + t.sum())
    k = int(np.argmax(dice.mean(axis=0)))
    return float(dice[:, k].mean()), float(grid[k]), float(np.mean(floors))


def report(label: str, cases: list[tuple[np.ndarray, np.ndarray]], ref: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    x, truths = [c[0] for c in cases], [c[1] for c in cases]
    maps = {
        "|x|": [np.abs(v) for v in x],
        "|x - ref|": [np.abs(v - ref) for v in x],
        "random": [np.abs(rng.standard_normal(v.shape)) for v in x],
    }
    for name, phi in maps.items():
        dice, thr, floor = best_dice(phi, truths)
        print(
            f"{label:<34} {name:<10} Dice {dice:.3f}  floor {floor:.3f}  "
            f"lead {dice - floor:+.3f}  (threshold {thr:.2f})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=120, help="cases per group")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cfg = synthetic.resolve_config(defaults()["synthetic"])
    families, variants = list(cfg["families"]), cfg["normal_variants"]
    none = {name: {**v, "rate": 0.0} for name, v in variants.items()}
    n, seed = args.n, args.seed
    ref = np.mean(
        [dipole.beat_leads(beat_of(seed + 1, p, variants), T_MS) for p in range(150)], axis=0
    )
    gap = cfg["truth_merge_gap_ms"]
    for rule in synthetic.NORMAL_RULES:
        spread = (
            synthetic.population_spread(cfg, seed, "ecg12") if rule == "normal_spread" else None
        )
        cases = []
        for p in range(n):
            beat = beat_of(seed, p, variants)
            truth = synthetic.normal_truth(
                beat,
                families,
                cfg["truth_reference_severity"],
                cfg["truth_threshold"],
                cfg["truth_normal_max_coverage"],
                "ecg12",
                spread,
            )
            cases.append((dipole.beat_leads(beat, T_MS), cell_mask(truth, gap)))
        report(f"normal, rule {rule}", cases, ref)
    lo, hi = cfg["evaluation_severity"]
    every = {name: {**v, "rate": 1.0} for name, v in variants.items()}
    for label, vcfg in (
        ("abnormal, no variants", none),
        ("abnormal, default variants", variants),
        ("abnormal, every variant (rate 1)", every),
    ):
        cases = []
        for p in range(n):
            rng = np.random.default_rng([seed, 7, p])
            family = families[p % len(families)]
            twin = beat_of(seed + 2, p, vcfg)
            signs = dipole.draw_signs(family, rng, cfg["sign_probability"])
            beat = dipole.apply_family(twin, family, rng.uniform(lo, hi), signs)
            truth = synthetic.abnormal_truth(beat, twin, cfg["truth_threshold"])
            cases.append((dipole.beat_leads(beat, T_MS), cell_mask(truth, gap)))
        report(label, cases, ref)


if __name__ == "__main__":
    main()
