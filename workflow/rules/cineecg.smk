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
        cfg=config["cineecg"],
        code=code(
            "cinexai.cineecg.constants",
            "cinexai.cineecg.vcg",
            "cinexai.cineecg.geometry",
            "cinexai.cineecg.trajectory",
            "cinexai.cineecg.build",
        ),
    script:
        "../scripts/cineecg.py"
