rule fit_clusters:
    """Latent clusters of one (modality, arch, K): clusterer + forest on the training split only
    (arch: the ResNet, whose residual blocks the clusters read)."""
    input:
        signals=lambda wc: SIGNALS[wc.modality],
        records=f"{RES}/data/records.parquet",
        model=f"{RES}/models/{{modality}}/{{arch}}/model.pt",
    output:
        state=f"{RES}/clusters/{{modality}}/{{arch}}/k{{k}}/state.npz",
        sha256=f"{RES}/clusters/{{modality}}/{{arch}}/k{{k}}/state.npz.sha256",
    log:
        logfile("clusters/fit/{modality}/{arch}/k{k}"),
    benchmark:
        benchfile("clusters/fit/{modality}/{arch}/k{k}")
    wildcard_constraints:
        k=r"\d+",
        arch=alternatives(CLUSTER_ARCHS),
    conda:
        "../../envs/attribution.yaml"
    threads: 1
    params:
        instances=lambda wc: cluster_instances(wc.k),
        cfg=canonical(CLUSTERS),
        seed=SEED,
        code=code("fit_clusters"),
    script:
        "../scripts/fit_clusters.py"


rule explain_clusters:
    """A latent-cluster instance on one source: Phi, cluster and uncertainty per case and sample."""
    input:
        signals=source_signals,
        records=f"{RES}/data/records.parquet",
        model=model_file("model.pt"),
        state=cluster_state,
    output:
        ATTRIBUTION,
    log:
        logfile("attribute/{source}/{arch}/{method}"),
    benchmark:
        benchfile("attribute/{source}/{arch}/{method}")
    wildcard_constraints:
        source="|".join(SOURCES),
        arch=alternatives(CLUSTER_ARCHS),
        method=alternatives(CLUSTER_METHODS),
    conda:
        "../../envs/attribution.yaml"
    threads: 1
    params:
        method_cfg=method_cfg,
        cfg=canonical(CLUSTERS),
        seed=SEED,
        code=code("explain_clusters"),
    script:
        "../scripts/explain_clusters.py"


rule clusters_fidelity:
    """Forest-CNN agreement, accuracy, AUROC and landmark AMI of one (modality, arch, K), test split."""
    input:
        signals=lambda wc: SIGNALS[wc.modality],
        records=f"{RES}/data/records.parquet",
        model=f"{RES}/models/{{modality}}/{{arch}}/model.pt",
        state=f"{RES}/clusters/{{modality}}/{{arch}}/k{{k}}/state.npz",
        truth=synthetic_truth(),
    output:
        result=f"{RES}/clusters/{{modality}}/{{arch}}/k{{k}}/fidelity.json",
        contingency=f"{RES}/clusters/{{modality}}/{{arch}}/k{{k}}/contingency.csv",
    log:
        logfile("clusters/fidelity/{modality}/{arch}/k{k}"),
    benchmark:
        benchfile("clusters/fidelity/{modality}/{arch}/k{k}")
    wildcard_constraints:
        k=r"\d+",
        arch=alternatives(CLUSTER_ARCHS),
    conda:
        "../../envs/attribution.yaml"
    params:
        cfg=canonical(CLUSTERS),
        code=code("clusters_fidelity"),
    script:
        "../scripts/clusters_fidelity.py"


rule clusters_summary:
    """Fidelity table and checks.json entries of every (modality, K); cluster x wave heat maps."""
    input:
        results=cluster_fidelity_files("fidelity.json"),
        contingency=cluster_fidelity_files("contingency.csv"),
    output:
        md=report(
            f"{RES}/tables/clusters_fidelity.md",
            category="Tables",
            caption="../report/clusters_fidelity.rst",
        ),
        csv=f"{RES}/tables/clusters_fidelity.csv",
        checks=f"{RES}/tables/clusters_checks.json",
        figures=report(
            contingency_figures(),
            category="Summary",
            caption="../report/clusters_contingency.rst",
        ),
    log:
        logfile("clusters/summary"),
    benchmark:
        benchfile("clusters/summary")
    conda:
        "../../envs/figures.yaml"
    params:
        cfg=canonical(CLUSTERS),
        code=code("clusters_summary"),
    script:
        "../scripts/clusters_summary.py"


rule cluster_case_figures:
    """Per case: the 12 leads over the cluster segmentation, uncertainty strip under each lead."""
    input:
        attributions=attribution_file(source=grid.ECG12),
        signals=SIGNALS[grid.ECG12],
    output:
        directory(f"{RES}/figures/clusters/{{arch}}/{{method}}"),
    log:
        logfile("figures/clusters/{arch}/{method}"),
    benchmark:
        benchfile("figures/clusters/{arch}/{method}")
    wildcard_constraints:
        arch=alternatives(CLUSTER_ARCHS),
        method=alternatives(CLUSTER_METHODS),
    conda:
        "../../envs/figures.yaml"
    params:
        code=code("cluster_case_figures"),
    script:
        "../scripts/cluster_case_figures.py"
