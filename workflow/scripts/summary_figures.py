from pathlib import Path

from cinexai.figures.summary import render_summary
from cinexai.workflow import logged

with logged(snakemake):
    render_summary(
        score_files=list(snakemake.input.scores),
        sweep_files=list(snakemake.input.sweeps),
        out_dir=Path(snakemake.output.dice).parent,
        n_resamples=snakemake.params.bootstrap["n_resamples"],
        confidence=snakemake.params.bootstrap["confidence"],
        seed=snakemake.params.seed,
    )
