rule fit_clusters:
    """Latent clusters of one (modality, K): clusterer + forest on the training split only."""
    input:
        signals=lambda wc: SIGNALS[wc.modality],
        records=f"{RES}/data/records.parquet",
        model=f"{RES}/models/{{modality}}/model.pt",
    output:
        state=f"{RES}/clusters/{{modality}}/k{{k}}/state.npz",
        sha256=f"{RES}/clusters/{{modality}}/k{{k}}/state.npz.sha256",
    log:
        logfile("clusters/fit/{modality}/k{k}"),
    benchmark:
        benchfile("clusters/fit/{modality}/k{k}")
    wildcard_constraints:
        k=r"\d+",
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
        signals=lambda wc: SIGNALS[wc.source],
        records=f"{RES}/data/records.parquet",
        model=f"{RES}/models/{{source}}/model.pt",
        state=cluster_state,
    output:
        f"{RES}/attributions/source={{source}}/method={{method}}/part-0.parquet",
    log:
        logfile("attribute/{source}/{method}"),
    benchmark:
        benchfile("attribute/{source}/{method}")
    wildcard_constraints:
        source="|".join(SOURCES),
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
    """Forest-CNN agreement, accuracy, AUROC and landmark AMI of one (modality, K), test split."""
    input:
        signals=lambda wc: SIGNALS[wc.modality],
        records=f"{RES}/data/records.parquet",
        model=f"{RES}/models/{{modality}}/model.pt",
        state=f"{RES}/clusters/{{modality}}/k{{k}}/state.npz",
        truth=synthetic_truth(),
    output:
        result=f"{RES}/clusters/{{modality}}/k{{k}}/fidelity.json",
        contingency=f"{RES}/clusters/{{modality}}/k{{k}}/contingency.csv",
    log:
        logfile("clusters/fidelity/{modality}/k{k}"),
    benchmark:
        benchfile("clusters/fidelity/{modality}/k{k}")
    wildcard_constraints:
        k=r"\d+",
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
        attributions=f"{RES}/attributions/source=ecg12/method={{method}}/part-0.parquet",
        signals=f"{RES}/data/windows.parquet",
    output:
        directory(f"{RES}/figures/clusters/{{method}}"),
    log:
        logfile("figures/clusters/{method}"),
    benchmark:
        benchfile("figures/clusters/{method}")
    wildcard_constraints:
        method=alternatives(CLUSTER_METHODS),
    conda:
        "../../envs/figures.yaml"
    params:
        code=code("cluster_case_figures"),
    script:
        "../scripts/cluster_case_figures.py"
