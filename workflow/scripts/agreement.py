from pathlib import Path

from cinexai.evaluation.agreement import make_agreement
from cinexai.workflow import logged

with logged(snakemake):
    make_agreement(
        snakemake.input.annotations,
        snakemake.input.records,
        snakemake.input.table1,
        Path(snakemake.output.md).parent,
        snakemake.params.data,
        snakemake.params.cfg,
        snakemake.params.seed,
    )
