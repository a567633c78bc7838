from cinexai.figures.index import write_index
from cinexai.workflow import logged

with logged(snakemake):
    write_index(figures=list(snakemake.input), out=snakemake.output[0])
