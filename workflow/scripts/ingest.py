from pathlib import Path

from cinexai.data.ingest import ingest
from cinexai.workflow import logged

with logged(snakemake):
    ingest(
        Path(snakemake.input.database).parent,
        snakemake.input.get("annotations") or None,
        Path(snakemake.output.windows).parent,
        snakemake.params.cfg,
        snakemake.params.seed,
        threads=snakemake.threads,
    )
