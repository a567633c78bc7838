from cinexai.annotate.bundle import build_bundle
from cinexai.workflow import logged

with logged(snakemake):
    build_bundle(
        snakemake.input.windows,
        snakemake.input.cineecg,
        snakemake.input.records,
        snakemake.output.bundle,
        snakemake.output.key_map,
        dataset_dir=snakemake.params.dataset_dir,
        window_ms=snakemake.params.window_ms,
    )
