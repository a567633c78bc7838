from pathlib import Path

from cinexai.figures.case import render_case
from cinexai.workflow import logged

with logged(snakemake):
    render_case(
        int(snakemake.wildcards.case),
        snakemake.input.windows,
        snakemake.input.cineecg,
        snakemake.params.attributions_root,
        snakemake.input.masks,
        snakemake.input.predictions_ecg12,
        snakemake.input.predictions_cineecg,
        snakemake.params.scores_root,
        Path(snakemake.output.ecg12).parent,
        snakemake.params.cfg,
    )
