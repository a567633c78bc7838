from cinexai.evaluation.annotations import build_masks
from cinexai.workflow import logged

with logged(snakemake):
    build_masks(
        annotations=snakemake.input.annotations,
        records=snakemake.input.records,
        out_masks=snakemake.output[0],
        cfg=snakemake.params.cfg,
        exclusions=snakemake.input.exclusions,
        annotators=snakemake.params.annotators,
    )
