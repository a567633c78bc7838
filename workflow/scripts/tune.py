from cinexai.models.tuning import tune
from cinexai.workflow import logged

with logged(snakemake):
    tune(
        signals=snakemake.input.signals,
        records=snakemake.input.records,
        study_db=snakemake.params.study,
        out_best=snakemake.output.best,
        modality=snakemake.wildcards.modality,
        arch=snakemake.wildcards.arch,
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
        threads=snakemake.threads,
    )
