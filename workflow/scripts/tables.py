from pathlib import Path

from cinexai.evaluation.tables import make_tables
from cinexai.workflow import logged

with logged(snakemake):
    make_tables(
        scores=list(snakemake.input.scores),
        sweeps=list(snakemake.input.sweeps),
        faithfulness=list(snakemake.input.faithfulness),
        out_dir=Path(snakemake.output.indices).parent,
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
        extra_checks=list(snakemake.input.clusters),
    )
