from cinexai.clusters.summary import summarise
from cinexai.workflow import logged

with logged(snakemake):
    summarise(
        results=list(snakemake.input.results),
        contingencies=list(snakemake.input.contingency),
        out_md=snakemake.output.md,
        out_csv=snakemake.output.csv,
        out_checks=snakemake.output.checks,
        figures=list(snakemake.output.figures),
        clusters_cfg=snakemake.params.cfg,
    )
