from cinexai.figures.index import write_index
from cinexai.workflow import logged

with logged(snakemake):
    write_index(
        figures=list(snakemake.input.figures),
        masks=snakemake.input.masks,
        database=snakemake.input.database,
        predictions=list(snakemake.input.predictions),
        scores=list(snakemake.input.scores),
        architecture=snakemake.params.architecture,
        out=snakemake.output[0],
    )
