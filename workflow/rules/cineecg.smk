rule cineecg:
    """12-lead windows -> VCG -> open CineECG trajectory (3 channels, mm, same time grid)."""
    input:
        windows=f"{RES}/data/windows.parquet",
    output:
        cineecg=f"{RES}/data/cineecg.parquet",
        vcg=f"{RES}/data/vcg.parquet",
    log:
        logfile("cineecg"),
    benchmark:
        benchfile("cineecg")
    conda:
        "../../envs/data.yaml"
    params:
        cfg=canonical(config["cineecg"]),
        code=code("cineecg"),
    script:
        "../scripts/cineecg.py"
