from pathlib import Path

from cinexai.evaluation.tables import make_tables
from cinexai.workflow import logged

with logged(snakemake):
    make_tables(
        list(snakemake.input.scores),
        list(snakemake.input.sweeps),
        Path(snakemake.output.indices).parent,
        snakemake.params.cfg,
        snakemake.params.seed,
        extra_checks=list(snakemake.input.clusters),
    )
