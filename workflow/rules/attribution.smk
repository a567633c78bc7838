# attribution.shards S > 1: attribute writes S shards (S in the path, so changing it reruns them),
# gather_attribution concatenates them into ATTRIBUTION; S = 1 attribute writes it directly.
SHARDS = config["attribution"]["shards"]
SHARD = f"{RES}/attribution_shards/source={{source}}/arch={{arch}}/method={{method}}/shard-{{shard}}-of-{{shards}}.parquet"
ATTRIBUTE_JOB = (
    "attribute/{source}/{arch}/{method}"
    if SHARDS == 1
    else "attribute/{source}/{arch}/{method}/shard-{shard}-of-{shards}"
)


rule attribute:
    """One job per (source, arch, method instance) -- or per shard of its cases with
    attribution.shards > 1: Phi of Eq. 1 for every evaluation case."""
    input:
        signals=source_signals,
        records=f"{RES}/data/records.parquet",
        model=model_file("model.pt"),
    output:
        ATTRIBUTION if SHARDS == 1 else temp(SHARD),
    log:
        logfile(ATTRIBUTE_JOB),
    benchmark:
        benchfile(ATTRIBUTE_JOB)
    wildcard_constraints:
        source="|".join(SOURCES),
        method=alternatives(ATTRIBUTE_METHODS),
        shard=r"\d+",
        shards=r"\d+",
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


if SHARDS > 1:

    rule gather_attribution:
        """The attribution.shards shards of (source, arch, method), concatenated in order: the
        file one unsharded attribute job writes."""
        input:
            expand(SHARD, shard=range(SHARDS), shards=SHARDS, allow_missing=True),
        output:
            ATTRIBUTION,
        log:
            logfile("gather_attribution/{source}/{arch}/{method}"),
        benchmark:
            benchfile("gather_attribution/{source}/{arch}/{method}")
        wildcard_constraints:
            source="|".join(SOURCES),
            method=alternatives(ATTRIBUTE_METHODS),
        conda:
            "../../envs/attribution.yaml"
        params:
            code=code("gather_attribution"),
        script:
            "../scripts/gather_attribution.py"


rule map_to_cineecg:
    """Eq. 2: 12-lead Phi summed over leads, scaled to [-1, 1], given to x, y and z (per arch)."""
    input:
        attribution_file(source=grid.ECG12),
    output:
        attribution_file(source=grid.MAPPED),
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
