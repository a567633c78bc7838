from pathlib import Path

from cinexai.data.ingest import ingest
from cinexai.workflow import logged

with logged(snakemake):
    ingest(
        ptbxl_dir=Path(snakemake.input.database).parent,
        annotations=snakemake.input.get("annotations") or None,
        out_dir=Path(snakemake.output.windows).parent,
        cfg=snakemake.params.cfg,
        seed=snakemake.params.seed,
        threads=snakemake.threads,
    )
