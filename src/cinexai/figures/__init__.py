"""Figures of the paper (Fig. 3: calibrated 12-lead; Fig. 4: CineECG 3D) and grid summary plots.

Entry points for the Snakemake rules: :func:`cinexai.figures.case.render_case` and
:func:`cinexai.figures.case.render_summary`.
"""
