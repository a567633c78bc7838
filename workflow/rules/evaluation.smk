checkpoint masks:
    """Validated expert annotations -> binary masks (per named lead; whole trajectory for CineECG)."""
    input:
        annotations=annotations_file(),
        records=f"{RES}/data/records.parquet",
        exclusions=f"{RES}/data/exclusions.parquet",
    output:
        f"{RES}/data/masks.parquet",
    log:
        logfile("masks"),
    benchmark:
        benchfile("masks")
    conda:
        "../../envs/evaluation.yaml"
    params:
        cfg=only(config["data"], "sampling_rate", "window_ms"),
        annotators=config["evaluation"]["annotators"],
        code=code("masks"),
    script:
        "../scripts/masks.py"


rule oracle:
    """Control: the expert mask plus noise, scored like any method (must come out near 1); one
    per (source, arch) so every architecture's pool has it (the same map: seeded by source)."""
    input:
        masks=f"{RES}/data/masks.parquet",
    output:
        attribution_file(method="oracle"),
    log:
        logfile("oracle/{source}/{arch}"),
    benchmark:
        benchfile("oracle/{source}/{arch}")
    conda:
        "../../envs/evaluation.yaml"
    params:
        cfg=only(config["evaluation"], "oracle_noise"),
        seed=SEED,
        code=code("oracle"),
    script:
        "../scripts/oracle.py"


rule score:
    """Every metric of one (source, arch, method) under every post-processing, in one job (one
    start-up): sign alignment, threshold sweep, Dice/IoU/Spearman and Quantus localisation
    against the masks; deletion/insertion AUC with the trained model of (the source's modality,
    arch) (mapped: missing, with the reason)."""
    input:
        unpack(score_inputs),
    output:
        scores=scored_files("part-0"),
        sweeps=scored_files("sweep"),
        faithfulness=scored_files("faithfulness"),
    log:
        logfile("score/{source}/{arch}/{method}"),
    benchmark:
        benchfile("score/{source}/{arch}/{method}")
    conda:
        "../../envs/evaluation.yaml"
    threads: 1
    params:
        postprocessing=config["postprocessing"],
        cfg=only(
            config["evaluation"], "threshold", "threshold_step", "localisation", "faithfulness"
        ),
        seed=SEED,
        code=code("score"),
    script:
        "../scripts/score.py"


rule tables:
    """Optimisation pool (all architectures) -> tables 1-5, controls and explanation families with
    BCa bootstrap intervals, and the threshold curves."""
    input:
        scores=score_files("part-0"),
        sweeps=score_files("sweep"),
        faithfulness=score_files("faithfulness"),
        clusters=cluster_checks(),
    output:
        **{
            name: report(
                f"{RES}/tables/{name}.md", category="Tables", caption=f"../report/{name}.rst"
            )
            for name in TABLES
        },
        csv=expand(f"{RES}/tables/{{name}}.csv", name=TABLES),
        curves=f"{RES}/tables/threshold_curves.csv",
        indices=f"{RES}/tables/bootstrap_indices.parquet",
        checks=f"{RES}/tables/checks.json",
    log:
        logfile("tables"),
    benchmark:
        benchfile("tables")
    conda:
        "../../envs/evaluation.yaml"
    params:
        cfg=only(config["evaluation"], "bootstrap", "controls", "oracle_min_dice", "table4_method"),
        seed=SEED,
        code=code("tables"),
    script:
        "../scripts/tables.py"


rule agreement:
    """Inter-annotator Dice per case (BCa CI) beside Table 1's best configuration: the human ceiling."""
    input:
        annotations=annotations_file(),
        records=f"{RES}/data/records.parquet",
        table1=f"{RES}/tables/table1.csv",
    output:
        md=report(
            f"{RES}/tables/agreement.md", category="Tables", caption="../report/agreement.rst"
        ),
        csv=f"{RES}/tables/agreement.csv",
        cases=f"{RES}/tables/agreement_cases.csv",
        summary=f"{RES}/tables/agreement.json",
    log:
        logfile("agreement"),
    benchmark:
        benchfile("agreement")
    conda:
        "../../envs/evaluation.yaml"
    params:
        data=only(config["data"], "sampling_rate", "window_ms"),
        cfg=only(config["evaluation"], "annotators", "bootstrap"),
        seed=SEED,
        code=code("agreement"),
    script:
        "../scripts/agreement.py"
