rule ingest:
    """PTB-XL layout -> labelled, split, 400 ms windows from QRS onset (+ exclusions with reasons)."""
    input:
        database=f"{dataset_dir()}/ptbxl_database.csv",
        annotations=annotations_file(),
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
        cfg=config["data"],
        seed=SEED,
        code=code("cinexai.data.ptbxl", "cinexai.data.beats", "cinexai.data.ingest"),
    script:
        "../scripts/ingest.py"
