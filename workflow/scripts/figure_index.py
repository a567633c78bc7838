from cinexai.figures.index import write_index
from cinexai.workflow import logged

with logged(snakemake):
    write_index(
        figures=list(snakemake.input.figures),
        masks=snakemake.input.masks,
        database=snakemake.input.database,
        predictions_ecg12=snakemake.input.predictions_ecg12,
        predictions_cineecg=snakemake.input.predictions_cineecg,
        scores=list(snakemake.input.scores),
        out=snakemake.output[0],
    )
