from pathlib import Path

from cinexai.figures.summary import render_summary
from cinexai.workflow import logged

with logged(snakemake):
    render_summary(
        list(snakemake.input.scores),
        list(snakemake.input.sweeps),
        Path(snakemake.output.dice).parent,
        n_resamples=snakemake.params.bootstrap["n_resamples"],
        confidence=snakemake.params.bootstrap["confidence"],
        seed=snakemake.params.seed,
    )
