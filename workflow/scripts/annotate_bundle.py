from pathlib import Path

from cinexai.annotate.bundle import build_bundle
from cinexai.workflow import logged

with logged(snakemake):
    build_bundle(
        windows=snakemake.input.windows,
        cineecg=snakemake.input.cineecg,
        records=snakemake.input.records,
        out_dir=snakemake.output.bundle,
        key_map=snakemake.output.key_map,
        dataset_dir=Path(snakemake.input.database).parent,
        window_ms=snakemake.params.window_ms,
    )
