from cinexai.evaluation.classifier import classifier_table
from cinexai.workflow import logged

with logged(snakemake):
    classifier_table(
        predictions=list(snakemake.input),
        out_md=snakemake.output.md,
        out_csv=snakemake.output.csv,
        n_resamples=snakemake.params.bootstrap["n_resamples"],
        confidence=snakemake.params.bootstrap["confidence"],
        seed=snakemake.params.seed,
    )
