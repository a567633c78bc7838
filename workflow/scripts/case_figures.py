from pathlib import Path

from cinexai.figures.case import render_case
from cinexai.workflow import logged

with logged(snakemake):
    render_case(
        case_id=int(snakemake.wildcards.case),
        windows=snakemake.input.windows,
        cineecg=snakemake.input.cineecg,
        attributions_root=snakemake.params.attributions_root,
        masks=snakemake.input.masks,
        predictions_ecg12=snakemake.input.predictions_ecg12,
        predictions_cineecg=snakemake.input.predictions_cineecg,
        scores_root=snakemake.params.scores_root,
        out_dir=Path(snakemake.output.ecg12).parent,
        cfg=snakemake.params.cfg,
        plotly_js=snakemake.params.plotly_js,
    )
