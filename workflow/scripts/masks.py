from cinexai.evaluation.annotations import build_masks
from cinexai.workflow import logged

with logged(snakemake):
    build_masks(
        snakemake.input.annotations,
        snakemake.input.records,
        snakemake.output[0],
        snakemake.params.cfg,
        annotators=snakemake.params.annotators,
    )
