rule annotate_bundle:
    """Blinded cases for the annotation platform (not a default target: `snakemake annotate_bundle`).

    The key map (case key -> ecg_id) is written outside the served bundle folder.
    """
    input:
        windows=f"{RES}/data/windows.parquet",
        cineecg=f"{RES}/data/cineecg.parquet",
        records=f"{RES}/data/records.parquet",
        database=f"{dataset_dir()}/ptbxl_database.csv",
    output:
        bundle=directory(f"{RES}/annotate/bundle"),
        key_map=f"{RES}/annotate/private/key_map.csv",
    log:
        logfile("annotate_bundle"),
    benchmark:
        benchfile("annotate_bundle")
    conda:
        "../../envs/data.yaml"
    params:
        window_ms=config["data"]["window_ms"],
        code=code("annotate_bundle"),
    script:
        "../scripts/annotate_bundle.py"
