from cinexai.models.training import train
from cinexai.workflow import logged

with logged(snakemake):
    train(
        snakemake.input.signals,
        snakemake.input.records,
        snakemake.input.best,
        snakemake.output.model,
        snakemake.output.metrics,
        snakemake.output.predictions,
        snakemake.wildcards.modality,
        snakemake.params.cfg,
        snakemake.params.seed,
        threads=snakemake.threads,
    )
