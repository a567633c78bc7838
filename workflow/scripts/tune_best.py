from cinexai.models.tuning import gather
from cinexai.workflow import logged

with logged(snakemake):
    gather(
        storage=snakemake.params.storage,
        workers=list(snakemake.input),
        out_best=snakemake.output.best,
        modality=snakemake.wildcards.modality,
        arch=snakemake.wildcards.arch,
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
    )
