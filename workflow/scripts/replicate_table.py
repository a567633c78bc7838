from cinexai.evaluation.replicates import replicate_table
from cinexai.workflow import logged

with logged(snakemake):
    replicate_table(
        table1=list(snakemake.input.table1),
        controls=list(snakemake.input.controls),
        classifier=list(snakemake.input.classifier),
        seeds=snakemake.params.seeds,
        out_csv=snakemake.output.csv,
        out_md=snakemake.output.md,
    )
