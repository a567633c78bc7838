"""A smooth-lobe heart-dipole beat model and the registry of abnormal families.

A beat is a set of named lobes.  Each lobe is a 3D force ``vec`` (mV, Frank axes: X to the
patient's left, Y inferior, Z posterior) times a scalar time course that rises as a half cosine
from ``on`` to ``p1``, stays at 1 until ``p2`` and falls as a half cosine to ``off`` (times in ms
from the true QRS onset; ``p1 == p2`` gives a peaked lobe, ``p1 < p2`` a plateau).  The lobes
have compact support, so the true QRS onset is exact: the septal lobe starts at 0 ms and no
ventricular lobe starts earlier.

The dipole D(t) is the sum of the lobes; the 8 independent leads are ``FORWARD_DOWER @ D`` and
the other four are derived (:func:`cinexai.leads.twelve_from_eight`).  A patient fixes the lobe
set (heart-axis rotation, amplitudes, QRS width, QT, PR, heart rate); an abnormal family is a
function that changes the lobes at a severity in [0, 1] (:data:`FAMILIES`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from cinexai.cineecg.constants import FORWARD_DOWER
from cinexai.leads import twelve_from_eight

#: Order of the lobes in rendered arrays (families may only change these).
LOBE_NAMES: tuple[str, ...] = ("P1", "P2", "Q", "A", "R", "S", "RV", "Q_MI", "ST", "T")


@dataclass(frozen=True)
class Lobe:
    """One smooth dipole lobe: half-cosine rise on..p1, plateau p1..p2, half-cosine fall p2..off."""

    on: float
    p1: float
    p2: float
    off: float
    vec: np.ndarray

    def scaled(self, factor: float) -> Lobe:
        return replace(self, vec=self.vec * factor)

    def plus(self, vec: np.ndarray) -> Lobe:
        return replace(self, vec=self.vec + vec)


Beat = dict[str, Lobe]


@dataclass(frozen=True)
class Patient:
    """Patient-specific morphology, shared by all of that patient's records."""

    rotation: np.ndarray  # 3x3 heart-axis rotation applied to every lobe direction
    qrs_ms: float
    pr_ms: float
    p_ms: float
    qtc_ms: float
    heart_rate: float  # bpm, the patient's mean rate
    gains: dict[str, float]  # lobe name -> amplitude factor
    rv_variant_mv: float  # normal rSr' variant: small late right-anterior force
    st_variant_mv: float  # normal early-repolarisation plateau
    t_axis_deg: float  # T-wave frontal-axis offset from the canonical one
    sex: int  # 0 male, 1 female (PTB-XL coding)
    age: int


def direction(theta_deg: float, phi_deg: float) -> np.ndarray:
    """Unit vector at frontal angle theta (X toward Y, inferior +) and elevation phi (posterior +)."""
    th, ph = np.deg2rad(theta_deg), np.deg2rad(phi_deg)
    return np.array([np.cos(ph) * np.cos(th), np.cos(ph) * np.sin(th), np.sin(ph)])


def rotation(frontal_deg: float, horizontal_deg: float, sagittal_deg: float) -> np.ndarray:
    """Rotation about Z (frontal plane), then Y (horizontal plane), then X (sagittal plane)."""
    a, b, c = np.deg2rad([frontal_deg, horizontal_deg, sagittal_deg])
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rx = np.array([[1, 0, 0], [0, np.cos(c), -np.sin(c)], [0, np.sin(c), np.cos(c)]])
    return rx @ ry @ rz


def draw_patient(rng: np.random.Generator) -> Patient:
    """Draw one patient's morphology (normal inter-patient variability)."""
    sex = int(rng.integers(0, 2))
    gains = {name: float(rng.lognormal(0.0, 0.15)) for name in LOBE_NAMES}
    voltage = float(rng.lognormal(0.0, 0.22)) * (0.88 if sex else 1.0)
    for name in ("Q", "A", "R", "S"):
        gains[name] *= voltage
    gains["T"] *= float(rng.lognormal(0.0, 0.2))
    gains["A"] *= float(rng.lognormal(0.0, 0.25))  # R-wave progression varies between people
    return Patient(
        rotation=rotation(rng.normal(0, 20), rng.normal(0, 12), rng.normal(0, 8)),
        qrs_ms=float(np.clip(rng.normal(92, 7), 76, 112)),
        pr_ms=float(np.clip(rng.normal(160, 18), 125, 205)),
        p_ms=float(np.clip(rng.normal(98, 8), 80, 115)),
        qtc_ms=float(np.clip(rng.normal(412, 16), 370, 455)),
        heart_rate=float(np.clip(rng.normal(70, 10), 50, 100)),
        gains=gains,
        rv_variant_mv=float(abs(rng.normal(0, 0.12))),
        st_variant_mv=float(abs(rng.normal(0, 0.06))),
        t_axis_deg=float(rng.normal(0, 12)),
        sex=sex,
        age=int(np.clip(rng.normal(58, 16), 18, 89)),
    )


def qt_ms(patient: Patient, rr_ms: float) -> float:
    """QT from the patient's QTc (Bazett), clipped to a physiological range."""
    return float(np.clip(patient.qtc_ms * np.sqrt(rr_ms / 1000.0), 320.0, 460.0))


def normal_beat(patient: Patient, rr_ms: float, jitter: np.ndarray | None = None) -> Beat:
    """The patient's normal lobe set at a given RR interval (``jitter``: extra record rotation)."""
    q, f = patient.qrs_ms, patient.qrs_ms / 92.0
    qt = qt_ms(patient, rr_ms)
    t_peak = qt - 0.24 * (qt - q)
    pr, pd = patient.pr_ms, patient.p_ms
    rot = patient.rotation if jitter is None else jitter @ patient.rotation
    g = patient.gains

    def lobe(
        name: str, on: float, p1: float, p2: float, off: float, d: np.ndarray, amp: float
    ) -> Lobe:
        return Lobe(on, p1, p2, off, rot @ d * amp * g[name])

    return {
        "P1": lobe(
            "P1", -pr, -pr + 0.3 * pd, -pr + 0.3 * pd, -pr + 0.6 * pd, direction(70, -30), 0.11
        ),
        "P2": lobe(
            "P2", -pr + 0.35 * pd, -pr + 0.7 * pd, -pr + 0.7 * pd, -pr + pd, direction(25, 35), 0.09
        ),
        "Q": lobe("Q", 0.0, 12 * f, 12 * f, 26 * f, direction(155, -60), 0.22),
        "A": lobe("A", 6 * f, 26 * f, 26 * f, 46 * f, direction(30, -55), 0.4),
        "R": lobe("R", 16 * f, 42 * f, 42 * f, 72 * f, direction(45, 15), 1.8),
        "S": lobe("S", 46 * f, 68 * f, 68 * f, q, direction(-120, 55), 0.6),
        "RV": Lobe(60 * f, 78 * f, 78 * f, q, rot @ direction(175, -55) * patient.rv_variant_mv),
        "Q_MI": Lobe(0.0, 18 * f, 18 * f, 40 * f, np.zeros(3)),
        "ST": Lobe(
            q - 6,
            q + 25,
            t_peak - 60,
            t_peak - 10,
            rot @ direction(40, -65) * patient.st_variant_mv,
        ),
        "T": lobe("T", q + 15, t_peak, t_peak, qt, direction(40 + patient.t_axis_deg, -20), 0.55),
    }


# ----------------------------------------------------------------------------------------------
# Wave boundaries (landmark truth for the latent-cluster explanations)

#: Share of its rise at which the T wave starts (the T lobe rises slowly from QRS end + 15 ms).
T_ONSET_FRACTION = 0.1
#: Lobes of ventricular depolarisation (the QRS complex).
QRS_LOBES = ("Q", "A", "R", "S", "RV", "Q_MI")


def wave_boundaries(beat: Beat) -> dict[str, float]:
    """Wave boundaries of a beat in ms from its QRS onset: P from the first P lobe's start to the
    second's end; QRS from 0 to the last end of a non-zero depolarisation lobe; T from where the
    T lobe reaches :data:`T_ONSET_FRACTION` of its rise to its end."""
    qrs = [beat[n] for n in QRS_LOBES if np.any(beat[n].vec != 0)]
    t = beat["T"]
    rise = np.arccos(1 - 2 * T_ONSET_FRACTION) / np.pi  # half-cosine rise reaches the fraction
    return {
        "p_on": float(beat["P1"].on),
        "p_off": float(beat["P2"].off),
        "qrs_on": 0.0,
        "qrs_off": float(max(lobe.off for lobe in qrs)),
        "t_on": float(t.on + rise * (t.p1 - t.on)),
        "t_off": float(t.off),
    }


# ----------------------------------------------------------------------------------------------
# Abnormal families: name -> lobe change at a severity.  Adding a family is one decorated function.

#: ``modify(beat, severity, shown)``: ``shown`` names the family's optional signs this record has.
Family = Callable[[Beat, float, frozenset[str]], Beat]


@dataclass(frozen=True)
class FamilySpec:
    """A registered family: the lobe change and the PTB-XL statements that label it.

    ``signs`` are the family's signs that real records show independently of each other (an
    anterior infarction with Q waves and no T inversion, or the reverse); a record shows each with
    a probability, and at least ``min_signs`` of them.  Signs outside ``signs`` always show.
    Were they always shown together, a classifier could learn one sign and ignore the others,
    while an expert marks every sign present: the cohort would reward attributions to one sign.
    """

    modify: Family
    code: str  # diagnostic SCP statement
    marked_code: str | None = None  # statement used from ``marked_from`` severity on
    marked_from: float = 0.5
    form_codes: tuple[str, ...] = ()
    signs: tuple[str, ...] = ()
    min_signs: int = 0

    def scp_codes(self, severity: float, likelihood: float) -> dict[str, float]:
        """PTB-XL ``scp_codes`` dict for one record of this family."""
        code = self.marked_code if self.marked_code and severity >= self.marked_from else self.code
        return {code: likelihood, **{c: 0.0 for c in self.form_codes}, "SR": 0.0}


FAMILIES: dict[str, FamilySpec] = {}


def register(
    name: str,
    code: str,
    marked_code: str | None = None,
    marked_from: float = 0.5,
    form_codes: tuple[str, ...] = (),
    signs: tuple[str, ...] = (),
    min_signs: int = 0,
) -> Callable[[Family], Family]:
    """Decorator adding a family (lobe change + its SCP statements) to :data:`FAMILIES`."""

    def wrap(fn: Family) -> Family:
        FAMILIES[name] = FamilySpec(
            fn, code, marked_code, marked_from, form_codes, signs, min_signs
        )
        return fn

    return wrap


def draw_signs(family: str, rng: np.random.Generator, probability: float) -> tuple[str, ...]:
    """The optional signs one patient's records show: each with ``probability``, at least
    ``min_signs`` (missing ones drawn uniformly from the rest); () for 'normal'."""
    if family == "normal":
        return ()
    spec = FAMILIES[family]
    shown = [sign for sign in spec.signs if rng.random() < probability]
    rest = [sign for sign in spec.signs if sign not in shown]
    while len(shown) < spec.min_signs:
        shown.append(rest.pop(int(rng.integers(len(rest)))))
    return tuple(sign for sign in spec.signs if sign in shown)


def _toward(vec: np.ndarray, target: np.ndarray, fraction: float) -> np.ndarray:
    """Rotate ``vec`` toward the unit vector ``target`` by ``fraction`` of the angle (slerp)."""
    norm = np.linalg.norm(vec)
    u = vec / norm
    angle = np.arccos(np.clip(u @ target, -1.0, 1.0))
    if angle < 1e-9:
        return vec.copy()
    w = (target - u * np.cos(angle)) / np.sin(angle)
    return norm * (u * np.cos(fraction * angle) + w * np.sin(fraction * angle))


@register("lafb", "LAFB")
def lafb(beat: Beat, s: float, shown: frozenset[str]) -> Beat:
    """Left anterior fascicular block: mid-QRS forces swing superior-leftward (axis to -60 deg);
    initial forces inferior-rightward; small mid-QRS delay."""
    out = dict(beat)
    r = beat["R"]
    out["R"] = replace(
        r,
        p1=r.p1 + 6 * s,
        p2=r.p2 + 6 * s,
        off=r.off + 8 * s,
        vec=_toward(r.vec, direction(-60, 5), s),
    )
    out["Q"] = replace(beat["Q"], vec=_toward(beat["Q"].vec, direction(115, -40), 0.6 * s))
    return out


@register("rbbb", "IRBBB", marked_code="CRBBB", marked_from=0.5)
def rbbb(beat: Beat, s: float, shown: frozenset[str]) -> Beat:
    """Right bundle branch block: a late right-anterior QRS force that widens the QRS
    (rsR' in V1, slurred S in I/V6) and a secondary T change opposite to it."""
    out = dict(beat)
    rv, t, st = beat["RV"], beat["T"], beat["ST"]
    extra = 55.0 * s
    u = direction(175, -50)
    out["RV"] = Lobe(
        rv.on - 4 * s,
        rv.p2 + 0.7 * extra,
        rv.p2 + 0.7 * extra,
        rv.off + extra,
        rv.vec + u * 1.1 * s,
    )
    out["ST"] = replace(st, on=st.on + extra, p1=min(st.p1 + extra, st.p2))
    out["T"] = t.plus(-u * 0.25 * s)
    return out


@register(
    "anterior_mi",
    "ASMI",
    marked_code="AMI",
    marked_from=0.7,
    form_codes=("ABQRS",),
    signs=("q_waves", "t_inversion"),
    min_signs=1,
)
def anterior_mi(beat: Beat, s: float, shown: frozenset[str]) -> Beat:
    """Anterior(-septal) infarction: loss of septal/anterior initial forces and an initial force
    pointing away from the anterior wall (Q waves V1-V4), T vector turned posterior (T inversion).
    Either sign may come alone (an evolving infarction before Q waves, an old one whose T has
    recovered)."""
    out = dict(beat)
    if "q_waves" in shown:
        out["Q"] = beat["Q"].scaled(1 - 0.9 * s)
        out["A"] = beat["A"].scaled(1 - 0.8 * s)
        out["Q_MI"] = beat["Q_MI"].plus(direction(-10, 80) * 0.55 * s)
    if "t_inversion" in shown:
        out["T"] = beat["T"].plus(direction(0, 90) * 0.5 * s)
    return out


@register("st_elevation", "INJAS", form_codes=("STE_",), signs=("hyperacute_t",))
def st_elevation(beat: Beat, s: float, shown: frozenset[str]) -> Beat:
    """Anteroseptal injury: a plateau force toward the anterior wall across the ST segment
    (ST elevation V1-V4), with or without a taller (hyperacute) T."""
    out = dict(beat)
    out["ST"] = beat["ST"].plus(direction(40, -65) * 0.35 * s)
    if "hyperacute_t" in shown:
        out["T"] = beat["T"].scaled(1 + 0.3 * s)
    return out


@register("lvh", "LVH", form_codes=("VCLVH",), signs=("strain",))
def lvh(beat: Beat, s: float, shown: frozenset[str]) -> Beat:
    """Left ventricular hypertrophy: larger leftward-posterior QRS forces (tall R V5/V6/aVL, deep
    S V1/V2), with or without strain (ST-T opposite to the main QRS force)."""
    out = dict(beat)
    r = beat["R"]
    out["R"] = replace(
        r, off=r.off + 6 * s, vec=_toward(r.vec, direction(20, 30), 0.3 * s) * (1 + 0.9 * s)
    )
    out["S"] = beat["S"].scaled(1 + 1.0 * s)
    if "strain" in shown:
        u = r.vec / np.linalg.norm(r.vec)
        out["ST"] = beat["ST"].plus(-u * 0.08 * s)
        out["T"] = beat["T"].plus(-u * 0.6 * s)
    return out


def apply_family(
    beat: Beat, family: str, severity: float, signs: Iterable[str] | None = None
) -> Beat:
    """Apply a registered family (``'normal'`` leaves the beat unchanged).

    ``signs``: the optional signs shown (None: all of the family's signs); unknown ones raise.
    """
    if family == "normal":
        return beat
    if family not in FAMILIES:
        raise KeyError(f"unknown synthetic family {family!r}; registered: {sorted(FAMILIES)}")
    spec = FAMILIES[family]
    shown = frozenset(spec.signs if signs is None else signs)
    if not shown <= set(spec.signs):
        raise KeyError(
            f"family {family!r} has no signs {sorted(shown - set(spec.signs))}; "
            f"its optional signs: {list(spec.signs)}"
        )
    return spec.modify(beat, float(severity), shown)


# ----------------------------------------------------------------------------------------------
# Normal variants: label-independent changes that healthy and sick people show alike.  A variant
# is drawn per patient (the cohort's ``normal_variants`` rates, the same in both classes) and
# applied to the patient's normal beat *before* any family, so the noise-free twin carries it and
# it cancels out of an abnormal case's truth.  Some mimic a family on purpose.

#: ``modify(beat, severity)``: the variant's change of the lobes.
Variant = Callable[[Beat, float], Beat]
#: Registered variants, in the order they are drawn and applied.
VARIANTS: dict[str, Variant] = {}
#: Variants whose severity is an amplitude factor (any positive range) rather than in (0, 1].
GAIN_VARIANTS = ("t_amplitude", "qrs_voltage")


def variant(name: str) -> Callable[[Variant], Variant]:
    """Decorator adding a normal variant to :data:`VARIANTS`."""

    def wrap(fn: Variant) -> Variant:
        VARIANTS[name] = fn
        return fn

    return wrap


@variant("early_repolarisation")
def early_repolarisation(beat: Beat, s: float) -> Beat:
    """J-point elevation with a slur at the end of the QRS and a concave ST in inferior and
    lateral leads: a plateau force toward inferior-left that rises before the QRS ends.  Mimics
    ``st_elevation`` (an anterior plateau force) on purpose."""
    out = dict(beat)
    st, qrs_end = beat["ST"], beat["S"].off
    out["ST"] = Lobe(
        qrs_end - 12.0,
        qrs_end + 6.0,
        max(st.p2, qrs_end + 6.0),
        st.off,
        st.vec + direction(50, -15) * 0.25 * s,
    )
    return out


@variant("juvenile_t")
def juvenile_t(beat: Beat, s: float) -> Beat:
    """Persistent juvenile T-wave pattern: T inversion in V1-V3 (T vector turned posterior).
    Mimics the T inversion of ``anterior_mi`` on purpose."""
    return {**beat, "T": beat["T"].plus(direction(-5, 85) * 0.4 * s)}


@variant("incomplete_rbbb")
def incomplete_rbbb(beat: Beat, s: float) -> Beat:
    """Incomplete right-bundle-branch pattern: rSr' in V1 from a small late right-anterior force,
    QRS widened by at most 6 ms (stays < 120 ms: a patient's QRS is at most 112 ms).  Mimics a
    mild ``rbbb`` on purpose."""
    rv = beat["RV"]
    u = direction(175, -50)
    return {
        **beat,
        "RV": Lobe(
            rv.on, rv.p2 + 4.0 * s, rv.p2 + 4.0 * s, rv.off + 6.0 * s, rv.vec + u * 0.45 * s
        ),
    }


@variant("t_amplitude")
def t_amplitude(beat: Beat, s: float) -> Beat:
    """Benign T-wave amplitude variation: the T lobe scaled by the factor ``s``."""
    return {**beat, "T": beat["T"].scaled(s)}


@variant("qrs_voltage")
def qrs_voltage(beat: Beat, s: float) -> Beat:
    """QRS voltage from body habitus (low in the obese, high in the slim and athletes): the
    ventricular depolarisation lobes scaled by the factor ``s``.  High voltage mimics ``lvh``."""
    return {**beat, **{n: beat[n].scaled(s) for n in ("Q", "A", "R", "S")}}


def draw_variants(
    rng: np.random.Generator, settings: dict[str, dict[str, Any]]
) -> tuple[tuple[str, float], ...]:
    """One patient's variants: each of :data:`VARIANTS` with its ``rate``, severity uniform in its
    ``severity`` range.  Both draws are made for every variant, so the draws of one variant do
    not depend on the others' rates."""
    out = []
    for name in VARIANTS:
        cfg = settings.get(name, {"rate": 0.0, "severity": [1.0, 1.0]})
        shown, severity = rng.random() < cfg["rate"], rng.uniform(*cfg["severity"])
        if shown:
            out.append((name, round(float(severity), 4)))
    return tuple(out)


def apply_variants(beat: Beat, variants: Iterable[tuple[str, float]]) -> Beat:
    """Apply normal variants ``(name, severity)`` in order; unknown names raise KeyError."""
    for name, severity in variants:
        if name not in VARIANTS:
            raise KeyError(f"unknown normal variant {name!r}; registered: {list(VARIANTS)}")
        beat = VARIANTS[name](beat, float(severity))
    return beat


# ----------------------------------------------------------------------------------------------
# Rendering


def _lobe_arrays(beat: Beat) -> tuple[np.ndarray, np.ndarray]:
    """(L, 4) times [on, p1, p2, off] and (L, 3) vectors in :data:`LOBE_NAMES` order."""
    times = np.array([[beat[n].on, beat[n].p1, beat[n].p2, beat[n].off] for n in LOBE_NAMES])
    vecs = np.array([beat[n].vec for n in LOBE_NAMES])
    return times, vecs


def lobe_shapes(times: np.ndarray, t_ms: np.ndarray) -> np.ndarray:
    """Time courses (..., L, T) of lobes with ``times`` (L, 4) at ``t_ms`` (..., 1, T)."""
    on, p1, p2, off = (times[:, k, None] for k in range(4))
    rise = 0.5 * (1 - np.cos(np.pi * np.clip((t_ms - on) / np.maximum(p1 - on, 1e-6), 0, 1)))
    fall = 0.5 * (1 + np.cos(np.pi * np.clip((t_ms - p2) / np.maximum(off - p2, 1e-6), 0, 1)))
    return np.where(t_ms < p1, rise, np.where(t_ms <= p2, 1.0, fall))


def beat_dipole(beat: Beat, t_ms: np.ndarray) -> np.ndarray:
    """Noise-free dipole (3, T) of one beat at times ``t_ms`` from its QRS onset."""
    times, vecs = _lobe_arrays(beat)
    return vecs.T @ lobe_shapes(times, np.asarray(t_ms, float)[None, :])


def beat_leads(beat: Beat, t_ms: np.ndarray) -> np.ndarray:
    """Noise-free 12-lead beat (12, T) in :data:`cinexai.leads.LEADS` order."""
    return twelve_from_eight(FORWARD_DOWER @ beat_dipole(beat, t_ms))


def render_dipole(
    beat: Beat, onsets_ms: np.ndarray, gains: np.ndarray, n_samples: int, fs: float
) -> np.ndarray:
    """Dipole (3, n_samples) of a beat train: beat k starts its QRS at ``onsets_ms[k]`` and has
    per-lobe amplitude factors ``gains[k]`` (L,) for beat-to-beat variability."""
    times, vecs = _lobe_arrays(beat)
    lo, hi = times[:, 0].min(), times[:, 3].max()
    span = int(np.ceil((hi - lo) * fs / 1000.0)) + 2
    first = np.floor((onsets_ms + lo) * fs / 1000.0).astype(int)  # (B,)
    idx = first[:, None] + np.arange(span)[None, :]  # (B, S)
    t_local = idx * (1000.0 / fs) - onsets_ms[:, None]  # (B, S)
    shapes = lobe_shapes(times, t_local[:, None, :])  # (B, L, S)
    contrib = np.einsum("bls,bl,lc->bcs", shapes, gains, vecs)  # (B, 3, S)
    out = np.zeros((3, n_samples))
    valid = (idx >= 0) & (idx < n_samples)
    for b in range(len(onsets_ms)):
        out[:, idx[b, valid[b]]] += contrib[b][:, valid[b]]
    return out
