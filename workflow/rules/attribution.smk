rule attribute:
    """One job per (source, arch, method instance): Phi of Eq. 1 for every evaluation case."""
    input:
        signals=source_signals,
        records=f"{RES}/data/records.parquet",
        model=model_file("model.pt"),
    output:
        f"{RES}/attributions/source={{source}}/arch={{arch}}/method={{method}}/part-0.parquet",
    log:
        logfile("attribute/{source}/{arch}/{method}"),
    benchmark:
        benchfile("attribute/{source}/{arch}/{method}")
    wildcard_constraints:
        source="|".join(SOURCES),
        method=alternatives(ATTRIBUTE_METHODS),
    conda:
        "../../envs/attribution.yaml"
    threads: 1
    resources:
        gpu=1 if config["attribution"]["device"] == "cuda" else 0,
    params:
        method_cfg=method_cfg,
        cfg=only(
            config["attribution"], "output", "one_pass", "batch_size", "cases_per_batch", "device"
        ),
        seed=SEED,
        code=method_code,
    script:
        "../scripts/attribute.py"


rule map_to_cineecg:
    """Eq. 2: 12-lead Phi summed over leads, scaled to [-1, 1], given to x, y and z (per arch)."""
    input:
        f"{RES}/attributions/source={grid.ECG12}/arch={{arch}}/method={{method}}/part-0.parquet",
    output:
        f"{RES}/attributions/source={grid.MAPPED}/arch={{arch}}/method={{method}}/part-0.parquet",
    log:
        logfile("map/{arch}/{method}"),
    benchmark:
        benchfile("map/{arch}/{method}")
    wildcard_constraints:
        method="|".join(METHODS),
    conda:
        "../../envs/attribution.yaml"
    params:
        code=code("map_to_cineecg"),
    script:
        "../scripts/map_to_cineecg.py"
