"""Replicates r = 1..R-1 (config ``replicates: R``): the model stages and everything after them
rerun under ``RES/replicates/r{rep}/`` with the seed ``replicate_seed(seed, rep)``, reading the
shared data stages (generate_synthetic, ingest, cineecg, masks: the cohort is fixed).

Each ``*_rep`` rule is its original with the files moved into the replicate's folder
(``in_replicate`` in common.smk) and the replicate's seed; replicate 0 is the run itself, so
R = 1 plans exactly the jobs, paths and seeds of a run without replicates. Tune workers and
attribution shards (models.tune_workers, attribution.shards) run per replicate like the run's.
The cluster fidelity summary and the figures are not replicated (a replicate's checks.json has
no clusters entry).
"""


use rule tune as tune_rep with:
    output:
        **in_replicate(rules.tune.output),
    log:
        *in_replicate(rules.tune.log),
    benchmark:
        replicate_path(rules.tune.benchmark)
    params:
        storage=in_replicate(tune_storage),
        seed=rep_seed,


use rule tune_best as tune_best_rep with:
    input:
        *in_replicate(rules.tune_best.input),
    output:
        **in_replicate(rules.tune_best.output),
    log:
        *in_replicate(rules.tune_best.log),
    benchmark:
        replicate_path(rules.tune_best.benchmark)
    params:
        storage=in_replicate(tune_storage),
        seed=rep_seed,


use rule train as train_rep with:
    input:
        **in_replicate(rules.train.input),
    output:
        **in_replicate(rules.train.output),
    log:
        *in_replicate(rules.train.log),
    benchmark:
        replicate_path(rules.train.benchmark)
    params:
        seed=rep_seed,


use rule classifier_table as classifier_table_rep with:
    input:
        *in_replicate(rules.classifier_table.input),
    output:
        **in_replicate(rules.classifier_table.output),
    log:
        *in_replicate(rules.classifier_table.log),
    benchmark:
        replicate_path(rules.classifier_table.benchmark)
    params:
        seed=rep_seed,


use rule attribute as attribute_rep with:
    input:
        **in_replicate(rules.attribute.input),
    output:
        replicate_path(ATTRIBUTION) if SHARDS == 1 else temp(replicate_path(SHARD)),
    log:
        *in_replicate(rules.attribute.log),
    benchmark:
        replicate_path(rules.attribute.benchmark)
    params:
        seed=rep_seed,


if SHARDS > 1:

    use rule gather_attribution as gather_attribution_rep with:
        input:
            *in_replicate(rules.gather_attribution.input),
        output:
            *in_replicate(rules.gather_attribution.output),
        log:
            *in_replicate(rules.gather_attribution.log),
        benchmark:
            replicate_path(rules.gather_attribution.benchmark)


use rule map_to_cineecg as map_to_cineecg_rep with:
    input:
        *in_replicate(rules.map_to_cineecg.input),
    output:
        *in_replicate(rules.map_to_cineecg.output),
    log:
        *in_replicate(rules.map_to_cineecg.log),
    benchmark:
        replicate_path(rules.map_to_cineecg.benchmark)


use rule oracle as oracle_rep with:
    output:
        *in_replicate(rules.oracle.output),
    log:
        *in_replicate(rules.oracle.log),
    benchmark:
        replicate_path(rules.oracle.benchmark)
    params:
        seed=rep_seed,


use rule fit_clusters as fit_clusters_rep with:
    input:
        **in_replicate(rules.fit_clusters.input),
    output:
        **in_replicate(rules.fit_clusters.output),
    log:
        *in_replicate(rules.fit_clusters.log),
    benchmark:
        replicate_path(rules.fit_clusters.benchmark)
    params:
        seed=rep_seed,


use rule explain_clusters as explain_clusters_rep with:
    input:
        **in_replicate(rules.explain_clusters.input),
    output:
        *in_replicate(rules.explain_clusters.output),
    log:
        *in_replicate(rules.explain_clusters.log),
    benchmark:
        replicate_path(rules.explain_clusters.benchmark)
    params:
        seed=rep_seed,


use rule score as score_rep with:
    input:
        unpack(in_replicate(score_inputs)),
    output:
        **in_replicate(rules.score.output),
    log:
        *in_replicate(rules.score.log),
    benchmark:
        replicate_path(rules.score.benchmark)
    params:
        seed=rep_seed,


use rule tables as tables_rep with:
    input:
        **{**in_replicate(rules.tables.input), "clusters": []},
    output:
        **in_replicate(rules.tables.output),
    log:
        *in_replicate(rules.tables.log),
    benchmark:
        replicate_path(rules.tables.benchmark)
    params:
        seed=rep_seed,


rule replicate_table:
    """The spread of the headline figures (Table 1, controls, classifiers) over the replicates."""
    input:
        table1=replicate_tables("table1.csv"),
        controls=replicate_tables("controls.csv"),
        classifier=replicate_tables("classifier.csv"),
    output:
        md=report(
            f"{RES}/tables/replicates.md", category="Tables", caption="../report/replicates.rst"
        ),
        csv=f"{RES}/tables/replicates.csv",
    log:
        logfile("replicate_table"),
    benchmark:
        benchfile("replicate_table")
    conda:
        "../../envs/evaluation.yaml"
    params:
        seeds=[replicate_seed(SEED, r) for r in range(REPLICATES)],
        code=code("replicate_table"),
    script:
        "../scripts/replicate_table.py"
