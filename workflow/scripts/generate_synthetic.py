from pathlib import Path

from cinexai.data.synthetic import generate
from cinexai.workflow import logged

with logged(snakemake):
    generate(Path(snakemake.output.database).parent, snakemake.params.cfg, snakemake.params.seed)
