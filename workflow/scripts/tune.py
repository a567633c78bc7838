from cinexai.models.tuning import tune
from cinexai.workflow import logged

with logged(snakemake):
    tune(
        snakemake.input.signals,
        snakemake.input.records,
        snakemake.params.study,
        snakemake.output.best,
        snakemake.wildcards.modality,
        snakemake.params.cfg,
        snakemake.params.seed,
        threads=snakemake.threads,
    )
