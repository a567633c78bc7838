rule generate_synthetic:
    """The embedded default dataset: a synthetic PTB-XL with known ground truth."""
    output:
        database=f"{RES}/synthetic-ptbxl/ptbxl_database.csv",
        annotations=f"{RES}/synthetic-ptbxl/annotations.csv",
        truth=f"{RES}/synthetic-ptbxl/synthetic_truth.csv",
    log:
        logfile("generate_synthetic"),
    benchmark:
        benchfile("generate_synthetic")
    conda:
        "../../envs/data.yaml"
    params:
        cfg=canonical(config["synthetic"]),
        seed=SEED,
        code=code("generate_synthetic"),
    script:
        "../scripts/generate_synthetic.py"
