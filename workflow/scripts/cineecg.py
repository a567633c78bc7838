from cinexai.cineecg.build import build
from cinexai.workflow import logged

with logged(snakemake):
    build(
        windows=snakemake.input.windows,
        out_cineecg=snakemake.output.cineecg,
        out_vcg=snakemake.output.vcg,
        cfg=snakemake.params.cfg,
    )
