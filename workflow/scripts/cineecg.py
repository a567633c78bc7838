from cinexai.cineecg.build import build
from cinexai.workflow import logged

with logged(snakemake):
    build(
        snakemake.input.windows,
        snakemake.output.cineecg,
        snakemake.output.vcg,
        snakemake.params.cfg,
    )
