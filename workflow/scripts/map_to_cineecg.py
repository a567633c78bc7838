from cinexai.attribution.mapping import map_file
from cinexai.workflow import logged

with logged(snakemake):
    map_file(ecg12_attr=snakemake.input[0], out=snakemake.output[0])
