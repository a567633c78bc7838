"""Filtering, beat detection, median beat, QRS onset, baseline and window on known beats."""

from __future__ import annotations

import numpy as np
import pytest

from cinexai.data import beats
from cinexai.leads import LEADS

FS = 500


def test_qrs_onset_within_6_ms_of_truth(synth) -> None:
    rng = np.random.default_rng(3)
    errors = []
    for k in range(8):
        x, onsets = synth(rng, hr=rng.uniform(50, 110), abnormal=bool(k % 2))
        result = beats.process_signal(x, FS, 200, LEADS)
        errors.append(np.min(np.abs(onsets - result.qrs_onset)))
    errors_ms = np.array(errors) * 1000 / FS
    assert np.median(errors_ms) <= 4.0, errors_ms
    assert errors_ms.max() <= 6.0, errors_ms


def test_window_shape_dtype_and_zero_baseline_at_onset(synth) -> None:
    x, onsets = synth(np.random.default_rng(4))
    x = x + np.linspace(-0.5, 0.8, 12)[:, None]  # large DC offsets per lead
    result = beats.process_signal(x, FS, 200, LEADS)
    assert result.window.shape == (12, 200)
    assert result.window.dtype == np.float32
    assert np.abs(result.window[:, 0]).max() < 0.05  # isoelectric level at QRS onset
    assert np.abs(result.window).max() > 0.3  # the QRS is there
    assert result.n_beats == onsets.size
    true_hr = 60 * FS / np.median(np.diff(onsets))
    assert result.heart_rate == pytest.approx(true_hr, abs=2.0)


def test_window_matches_noise_free_beat(synth) -> None:
    """The median-beat window equals the clean beat from the reported onset, PR level removed."""
    clean, _ = synth(np.random.default_rng(5), noise=False)
    noisy, _ = synth(np.random.default_rng(5))
    result = beats.process_signal(noisy, FS, 200, LEADS)
    start = result.qrs_onset  # the record sample the window starts at
    truth = clean[:, start : start + 200] - clean[:, start - 15 : start - 5].mean(
        axis=1, keepdims=True
    )
    assert np.abs(result.window - truth).max() < 0.05
    assert np.corrcoef(result.window.ravel(), truth.ravel())[0, 1] > 0.999


def test_isoelectric_level_is_pr_median() -> None:
    template = np.zeros((12, 300)) + np.arange(12)[:, None] * 0.1
    template[:, 150:] += 1.0  # QRS from sample 150
    level = beats.isoelectric_level(template, 150, FS)
    np.testing.assert_allclose(level, np.arange(12) * 0.1)
    window = beats.extract_window(template, 150, 100, FS)
    np.testing.assert_allclose(window, 1.0, atol=1e-6)


def test_detects_every_beat(synth) -> None:
    x, onsets = synth(np.random.default_rng(6), hr=100)
    peaks = beats.detect_beats(beats.bandpass(x, FS), FS)
    assert peaks.size == onsets.size
    assert np.all(np.abs(peaks - onsets) < 0.1 * FS)  # each peak within 100 ms after an onset


def test_bandpass_keeps_qrs_band_and_removes_mains_and_drift() -> None:
    t = np.arange(10 * FS) / FS
    mid = slice(FS, 9 * FS)  # away from the edges
    for freq, low, high in ((10.0, 0.9, 1.1), (50.0, 0.0, 0.1), (0.05, 0.0, 0.1)):
        out = beats.bandpass(np.sin(2 * np.pi * freq * t)[None, :], FS)
        gain = np.abs(out[0, mid]).max()
        assert low <= gain <= high, (freq, gain)


@pytest.mark.parametrize(
    "lead, kind, reason", [("V3", "nan", "nan in lead V3"), ("aVL", "flat", "flat lead aVL")]
)
def test_bad_leads_are_named(synth, lead: str, kind: str, reason: str) -> None:
    x, _ = synth(np.random.default_rng(7))
    if kind == "nan":
        x[LEADS.index(lead), 10] = np.nan
    else:
        x[LEADS.index(lead)] = 0.2
    with pytest.raises(beats.BeatError, match=reason) as info:
        beats.process_signal(x, FS, 200, LEADS)
    assert info.value.stage == "signal"


def test_noise_only_has_no_beats() -> None:
    rng = np.random.default_rng(8)
    t = np.arange(10 * FS) / FS
    x = 0.2 * np.sin(2 * np.pi * 0.25 * t) + rng.normal(0, 0.005, (12, t.size))
    with pytest.raises(beats.BeatError, match="no beats detected"):
        beats.process_signal(x, FS, 200, LEADS)


def test_too_few_beats(synth) -> None:
    x, onsets = synth(np.random.default_rng(9), duration_s=2.2, hr=60)
    assert onsets.size == 2
    with pytest.raises(beats.BeatError, match="too few beats: 2 < 3"):
        beats.process_signal(x, FS, 200, LEADS, min_beats=3)


def test_window_past_the_end(synth) -> None:
    x, onsets = synth(np.random.default_rng(10))
    with pytest.raises(beats.BeatError, match="window past the end"):
        beats.median_beat(x, np.array([x.shape[1] - 100]), FS, 200)
    with pytest.raises(beats.BeatError, match="window past the end"):
        beats.extract_window(x[:, :300], 150, 200, FS)
