from cinexai.models.tuning import tune
from cinexai.workflow import logged

with logged(snakemake):
    tune(
        signals=snakemake.input.signals,
        records=snakemake.input.records,
        storage=snakemake.params.storage,
        out_worker=snakemake.output.worker,
        modality=snakemake.wildcards.modality,
        arch=snakemake.wildcards.arch,
        worker=int(snakemake.wildcards.worker),
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
        threads=snakemake.threads,
    )
