from cinexai.figures.clusters import render_cases
from cinexai.workflow import logged

with logged(snakemake):
    render_cases(snakemake.input.attributions, snakemake.input.signals, snakemake.output[0])
