rule tune:
    """One of models.tune_workers Optuna TPE workers per (modality, arch), all sharing one study
    (journal file or RDB) kept outside the outputs, so a killed worker resumes."""
    input:
        signals=lambda wc: SIGNALS[wc.modality],
        records=f"{RES}/data/records.parquet",
    output:
        worker=f"{RES}/models/{{modality}}/{{arch}}/tune/worker-{{worker}}.json",
    log:
        logfile("tune/{modality}/{arch}/worker-{worker}"),
    benchmark:
        benchfile("tune/{modality}/{arch}/worker-{worker}")
    conda:
        "../../envs/models.yaml"
    threads: 8  # capped at --cores by Snakemake
    resources:
        gpu=1 if config["models"]["device"] == "cuda" else 0,
    params:
        storage=tune_storage,
        cfg=tune_cfg,
        seed=SEED,
        code=code("tune"),
    script:
        "../scripts/tune.py"


rule tune_best:
    """Best params of the (modality, arch) study once all its tune workers finished."""
    input:
        tune_workers,
    output:
        best=f"{RES}/models/{{modality}}/{{arch}}/best_params.json",
    log:
        logfile("tune_best/{modality}/{arch}"),
    benchmark:
        benchfile("tune_best/{modality}/{arch}")
    conda:
        "../../envs/models.yaml"
    params:
        storage=tune_storage,
        cfg=tune_cfg,
        seed=SEED,
        code=code("tune_best"),
    script:
        "../scripts/tune_best.py"


rule train:
    """Final training per (modality, arch) with early stopping; test metrics and predictions."""
    input:
        signals=lambda wc: SIGNALS[wc.modality],
        records=f"{RES}/data/records.parquet",
        best=f"{RES}/models/{{modality}}/{{arch}}/best_params.json",
    output:
        model=f"{RES}/models/{{modality}}/{{arch}}/model.pt",
        metrics=f"{RES}/models/{{modality}}/{{arch}}/metrics.json",
        predictions=f"{RES}/models/{{modality}}/{{arch}}/predictions.parquet",
    log:
        logfile("train/{modality}/{arch}"),
    benchmark:
        benchfile("train/{modality}/{arch}")
    conda:
        "../../envs/models.yaml"
    threads: 8  # capped at --cores by Snakemake
    resources:
        gpu=1 if config["models"]["device"] == "cuda" else 0,
    params:
        cfg=only(
            config["models"],
            "augment",
            "device",
            "early_stopping_fraction",
            "max_epochs",
            "patience",
        ),
        seed=SEED,
        code=code("train"),
    script:
        "../scripts/train.py"


rule classifier_table:
    """Accuracy, macro-F1 and AUROC (BCa CIs) on the test split per (modality, architecture)."""
    input:
        model_files("predictions.parquet"),
    output:
        md=report(
            f"{RES}/tables/classifier.md", category="Tables", caption="../report/classifier.rst"
        ),
        csv=f"{RES}/tables/classifier.csv",
    log:
        logfile("classifier_table"),
    benchmark:
        benchfile("classifier_table")
    conda:
        "../../envs/evaluation.yaml"
    params:
        bootstrap=canonical(config["evaluation"]["bootstrap"]),
        seed=SEED,
        code=code("classifier_table"),
    script:
        "../scripts/classifier_table.py"
