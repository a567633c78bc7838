from cinexai.figures.clusters import render_cases
from cinexai.workflow import logged

with logged(snakemake):
    render_cases(
        attributions=snakemake.input.attributions,
        signals=snakemake.input.signals,
        out_dir=snakemake.output[0],
    )
