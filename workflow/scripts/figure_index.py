from cinexai.figures.index import write_index
from cinexai.workflow import logged

with logged(snakemake):
    write_index(list(snakemake.input), snakemake.output[0])
