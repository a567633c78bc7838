from pathlib import Path

from cinexai.annotate.bundle import build_bundle
from cinexai.workflow import logged

with logged(snakemake):
    build_bundle(
        snakemake.input.windows,
        snakemake.input.cineecg,
        snakemake.input.records,
        snakemake.output.bundle,
        snakemake.output.key_map,
        dataset_dir=Path(snakemake.input.database).parent,
        window_ms=snakemake.params.window_ms,
    )
