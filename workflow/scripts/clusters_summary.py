from cinexai.clusters.summary import summarise
from cinexai.workflow import logged

with logged(snakemake):
    summarise(
        list(snakemake.input.results),
        list(snakemake.input.contingency),
        snakemake.output.md,
        snakemake.output.csv,
        snakemake.output.checks,
        list(snakemake.output.figures),
        snakemake.params.cfg,
    )
