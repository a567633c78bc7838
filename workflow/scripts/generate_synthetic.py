from pathlib import Path

from cinexai.data.synthetic import generate
from cinexai.workflow import logged

with logged(snakemake):
    generate(
        out_dir=Path(snakemake.output.database).parent,
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
    )
