rule case_figures:
    """Paper Fig. 3 (12-lead clinical grid) and Fig. 4 (3D CineECG in a heart) for one case: the
    figure method's map beside the IMN's intrinsic map, from declared attribution/score inputs.

    Not in the report (the case index links them); featured cases: featured_case_figures.
    """
    input:
        **{f"attr_{k}": v for k, v in figure_inputs("attributions").items()},
        **{f"score_{k}": v for k, v in figure_inputs("scores").items()},
        windows=SIGNALS[grid.ECG12],
        cineecg=SIGNALS[grid.CINEECG],
        masks=f"{RES}/data/masks.parquet",
        predictions=figure_predictions(),
    output:
        ecg12=f"{RES}/figures/cases/{{case}}/ecg12.png",
        ecg12_svg=f"{RES}/figures/cases/{{case}}/ecg12.svg",
        cineecg=f"{RES}/figures/cases/{{case}}/cineecg.png",
        html=f"{RES}/figures/cases/{{case}}/cineecg.html",
        compare=f"{RES}/figures/cases/{{case}}/compare.png",
    log:
        logfile("figures/{case}"),
    benchmark:
        benchfile("figures/{case}")
    wildcard_constraints:
        case=rf"(?!(?:{alternatives(FEATURED)})(?!\d))\d+",  # not a featured one
    conda:
        "../../envs/figures.yaml"
    params:
        cfg=FIGURE_CFG,
        plotly_js=f"../{PLOTLY_JS}",  # the copy the case pages share (plotly_js rule)
        code=code("case_figures"),
    script:
        "../scripts/case_figures.py"


use rule case_figures as featured_case_figures with:
    output:
        ecg12=report(
            f"{RES}/figures/cases/{{case}}/ecg12.png",
            category="Cases",
            subcategory="{case}",
            caption="../report/ecg12.rst",
        ),
        ecg12_svg=f"{RES}/figures/cases/{{case}}/ecg12.svg",
        cineecg=report(
            f"{RES}/figures/cases/{{case}}/cineecg.png",
            category="Cases",
            subcategory="{case}",
            caption="../report/cineecg_png.rst",
        ),
        html=report(
            f"{RES}/figures/cases/{{case}}/cineecg.html",
            category="Cases",
            subcategory="{case}",
            caption="../report/cineecg_html.rst",
        ),
        compare=report(
            f"{RES}/figures/cases/{{case}}/compare.png",
            category="Cases",
            subcategory="{case}",
            caption="../report/compare.rst",
        ),
    wildcard_constraints:
        case=alternatives(FEATURED),
    params:
        cfg=FIGURE_CFG,
        plotly_js="inline",  # self-contained: a report item
        code=code("case_figures"),


rule plotly_js:
    """The plotly.js of the installed plotly, once for all case pages (no network)."""
    output:
        f"{RES}/figures/cases/{PLOTLY_JS}",
    log:
        logfile("figures/plotly_js"),
    benchmark:
        benchfile("figures/plotly_js")
    conda:
        "../../envs/figures.yaml"
    params:
        code=code("plotly_js"),
    script:
        "../scripts/plotly_js.py"


rule figure_index:
    """The case index: a sortable table with thumbnails linking every case's figures, offline."""
    input:
        figures=case_figures,
        plotly=f"{RES}/figures/cases/{PLOTLY_JS}",
        masks=f"{RES}/data/masks.parquet",
        database=f"{dataset_dir()}/ptbxl_database.csv",
        predictions=figure_predictions(),
        scores=list(figure_inputs("scores").values()),
    output:
        report(
            f"{RES}/figures/cases/index.html",
            category="Cases",
            caption="../report/case_index.rst",
        ),
    log:
        logfile("figures/index"),
    benchmark:
        benchfile("figures/index")
    conda:
        "../../envs/figures.yaml"
    params:
        architecture=FIG["architecture"],
        code=code("figure_index"),
    script:
        "../scripts/figure_index.py"


rule summary_figures:
    """Dice by method x post-processing x source x arch with CI bars, and threshold curves."""
    input:
        scores=score_files("part-0"),
        sweeps=score_files("sweep"),
    output:
        dice=report(
            f"{RES}/figures/summary/dice_by_config.png",
            category="Summary",
            caption="../report/dice_by_config.rst",
        ),
        curves=report(
            f"{RES}/figures/summary/threshold_curves.png",
            category="Summary",
            caption="../report/threshold_curves.rst",
        ),
    log:
        logfile("figures/summary"),
    benchmark:
        benchfile("figures/summary")
    conda:
        "../../envs/figures.yaml"
    params:
        bootstrap=canonical(config["evaluation"]["bootstrap"]),
        seed=SEED,
        code=code("summary_figures"),
    script:
        "../scripts/summary_figures.py"
