from pathlib import Path

from cinexai.figures.case import render_case
from cinexai.workflow import logged

with logged(snakemake):
    render_case(
        case_id=int(snakemake.wildcards.case),
        windows=snakemake.input.windows,
        cineecg=snakemake.input.cineecg,
        masks=snakemake.input.masks,
        predictions=list(snakemake.input.predictions),
        attributions={k[5:]: v for k, v in snakemake.input.items() if k.startswith("attr_")},
        scores={k[6:]: v for k, v in snakemake.input.items() if k.startswith("score_")},
        out_dir=Path(snakemake.output.ecg12).parent,
        cfg=snakemake.params.cfg,
        plotly_js=snakemake.params.plotly_js,
    )
