from cinexai.clusters.fidelity import fidelity
from cinexai.workflow import logged

with logged(snakemake):
    fidelity(
        signals=snakemake.input.signals,
        records=snakemake.input.records,
        model=snakemake.input.model,
        state=snakemake.input.state,
        truth=snakemake.input.truth or None,
        out_json=snakemake.output.result,
        out_contingency=snakemake.output.contingency,
        modality=snakemake.wildcards.modality,
        clusters_cfg=snakemake.params.cfg,
        threads=snakemake.threads,
    )
