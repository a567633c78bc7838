rule ingest:
    """PTB-XL layout -> labelled, split, 400 ms windows from QRS onset (+ exclusions with reasons)."""
    input:
        database=f"{dataset_dir()}/ptbxl_database.csv",
        annotations=annotations_file(),
        records=ptbxl_record_files(),
    output:
        windows=f"{RES}/data/windows.parquet",
        records=f"{RES}/data/records.parquet",
        exclusions=f"{RES}/data/exclusions.parquet",
    log:
        logfile("ingest"),
    benchmark:
        benchfile("ingest")
    conda:
        "../../envs/data.yaml"
    threads: 8  # capped at --cores by Snakemake
    params:
        cfg=canonical(config["data"]),
        seed=SEED,
        code=code("ingest"),
    script:
        "../scripts/ingest.py"
