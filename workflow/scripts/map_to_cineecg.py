from cinexai.attribution.mapping import map_file
from cinexai.workflow import logged

with logged(snakemake):
    map_file(snakemake.input[0], snakemake.output[0])
