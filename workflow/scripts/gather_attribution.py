from cinexai.attribution.run import gather
from cinexai.workflow import logged

with logged(snakemake):
    gather(shards=list(snakemake.input), out=snakemake.output[0])
