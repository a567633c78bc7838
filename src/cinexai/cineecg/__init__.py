"""Open CineECG approximation: 12-lead ECG -> VCG -> mTSI-like 3D trajectory in a generic heart.

This is our documented approximation, not the commercial CineECG; see ``docs/cineecg.md``.
"""
