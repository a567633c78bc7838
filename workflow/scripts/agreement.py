from pathlib import Path

from cinexai.evaluation.agreement import make_agreement
from cinexai.workflow import logged

with logged(snakemake):
    make_agreement(
        annotations=snakemake.input.annotations,
        records=snakemake.input.records,
        table1=snakemake.input.table1,
        out_dir=Path(snakemake.output.md).parent,
        data_cfg=snakemake.params.data,
        eval_cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
    )
