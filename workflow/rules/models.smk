rule tune:
    """Optuna TPE search; the SQLite study is kept outside the outputs so a killed run resumes."""
    input:
        signals=lambda wc: SIGNALS[wc.modality],
        records=f"{RES}/data/records.parquet",
    output:
        best=f"{RES}/models/{{modality}}/best_params.json",
    log:
        logfile("tune/{modality}"),
    benchmark:
        benchfile("tune/{modality}")
    conda:
        "../../envs/models.yaml"
    threads: 8  # capped at --cores by Snakemake
    resources:
        gpu=1 if config["models"]["device"] == "cuda" else 0,
    params:
        study=f"{RES}/models/{{modality}}/study.db",
        cfg=only(config["models"], "augment", "device", "n_trials", "search_space", "tuning_epochs"),
        seed=SEED,
        code=code("tune"),
    script:
        "../scripts/tune.py"


rule train:
    """Final training with early stopping; test metrics and predictions for later stratification."""
    input:
        signals=lambda wc: SIGNALS[wc.modality],
        records=f"{RES}/data/records.parquet",
        best=f"{RES}/models/{{modality}}/best_params.json",
    output:
        model=f"{RES}/models/{{modality}}/model.pt",
        metrics=f"{RES}/models/{{modality}}/metrics.json",
        predictions=f"{RES}/models/{{modality}}/predictions.parquet",
    log:
        logfile("train/{modality}"),
    benchmark:
        benchfile("train/{modality}")
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
