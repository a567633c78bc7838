rule case_figures:
    """Paper Fig. 3 (12-lead clinical grid) and Fig. 4 (3D CineECG in a heart) for one case: the
    figure method's map beside the IMN's intrinsic map, from declared attribution/score inputs."""
    input:
        **{f"attr_{k}": v for k, v in figure_inputs("attributions").items()},
        **{f"score_{k}": v for k, v in figure_inputs("scores").items()},
        windows=SIGNALS[grid.ECG12],
        cineecg=SIGNALS[grid.CINEECG],
        masks=f"{RES}/data/masks.parquet",
        predictions=expand(
            f"{RES}/models/{{modality}}/{{arch}}/predictions.parquet",
            modality=MODALITIES,
            arch=sorted({arch for arch, _ in FIGURE_METHODS.values()}),
        ),
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
    log:
        logfile("figures/{case}"),
    benchmark:
        benchfile("figures/{case}")
    wildcard_constraints:
        case=r"\d+",
    conda:
        "../../envs/figures.yaml"
    params:
        cfg=FIG,
        roles=list(FIGURE_METHODS),
        sources=SCORED_SOURCES,
        code=code(
            "cinexai.figures.case",
            "cinexai.figures.ecg12",
            "cinexai.figures.cineecg3d",
            "cinexai.evaluation.postprocessing",
        ),
    script:
        "../scripts/case_figures.py"


rule figure_index:
    """One offline page linking every case's figures (the cases are known after the masks checkpoint)."""
    input:
        case_figures,
    output:
        f"{RES}/figures/cases/index.html",
    log:
        logfile("figures/index"),
    benchmark:
        benchfile("figures/index")
    conda:
        "../../envs/figures.yaml"
    params:
        code=code("cinexai.figures.index"),
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
        bootstrap=config["evaluation"]["bootstrap"],
        seed=SEED,
        code=code("cinexai.figures.summary"),
    script:
        "../scripts/summary_figures.py"
