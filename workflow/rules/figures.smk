rule case_figures:
    """Paper Fig. 3 (12-lead clinical grid) and Fig. 4 (3D CineECG in a heart) for one case."""
    input:
        windows=f"{RES}/data/windows.parquet",
        cineecg=f"{RES}/data/cineecg.parquet",
        masks=f"{RES}/data/masks.parquet",
        predictions_ecg12=f"{RES}/models/ecg12/predictions.parquet",
        predictions_cineecg=f"{RES}/models/cineecg/predictions.parquet",
        attributions=figure_attributions,
        scores=figure_scores,
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
    log:
        logfile("figures/{case}"),
    benchmark:
        benchfile("figures/{case}")
    wildcard_constraints:
        case=r"\d+",
    conda:
        "../../envs/figures.yaml"
    params:
        cfg=only(
            FIG,
            "dpi",
            "mesh_resolution",
            "method",
            "paper_speed_mm_s",
            "postprocessing",
            "tick_ms",
        ),
        attributions_root=f"{RES}/attributions",
        scores_root=f"{RES}/scores",
        code=code("case_figures"),
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
        code=code("figure_index"),
    script:
        "../scripts/figure_index.py"


rule summary_figures:
    """Dice by method x post-processing x source with CI bars, and threshold curves."""
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
