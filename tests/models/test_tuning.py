"""Optuna study: resumable, kill-tolerant, search-space-aware, shared by concurrent workers,
writes best_params.json."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from cinexai.config import defaults
from cinexai.io import read_json
from cinexai.models import architectures
from cinexai.models.tuning import gather, open_storage, study_lock, tune, worker_seed

CFG = {
    **defaults()["models"],
    "augment": {"time_mask": {"probability": 0.0, "width_ms": [40, 120]}},  # no augmentation
    "device": "cpu",
    "n_trials": 2,
    "tuning_epochs": 2,
    "architectures": {
        "resnet": {
            "depth": [1, 2],
            "width": [4, 8],
            "kernel_size": [3, 5],
            "dropout": [0.0, 0.3],
            "lr": [0.001, 0.01],
            "batch_size": [16, 32],
        },
        "imn": {
            "width": [2, 3],
            "kernel_size": [5],
            "dropout": [0.0, 0.2],
            "l1_lambda": [0.0001, 0.001],
            "lr": [0.001, 0.01],
            "batch_size": [16],
        },
    },
}
SPACE = CFG["architectures"]["resnet"]
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def _tune(data: tuple[Path, Path], db: Path | str, out: Path, **overrides) -> dict:
    """Every worker of the study in turn, then gather: best_params.json as a dict."""
    cfg = {**CFG, **overrides}
    workers = [out.with_suffix(f".worker-{i}.json") for i in range(cfg.get("tune_workers", 1))]
    for i, path in enumerate(workers):
        tune(
            signals=data[0],
            records=data[1],
            storage=db,
            out_worker=path,
            modality="cineecg",
            cfg=cfg,
            seed=5,
            worker=i,
            threads=1,
        )
    gather(storage=db, workers=workers, out_best=out, modality="cineecg", cfg=cfg, seed=5)
    return read_json(out)


def _trials(db: Path | str, name: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=name, storage=open_storage(db)).get_trials()


def _summary(trials: list[optuna.trial.FrozenTrial]) -> list[tuple]:
    return [(t.number, t.state, t.params, t.value, t.datetime_start) for t in trials]


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory, make_problem) -> dict:
    """A 2-trial study resumed to 3 trials, and an uninterrupted 3-trial study."""
    root = tmp_path_factory.mktemp("tune")
    data = make_problem(root / "data", "cineecg", n_samples=48)
    db, out = root / "study.journal", root / "best.json"
    first = _tune(data, db, out)
    before = _trials(db, first["study_name"])
    second = _tune(data, db, out, n_trials=3)
    fresh = _tune(data, root / "fresh.journal", root / "fresh.json", n_trials=3)
    return {
        "data": data,
        "db": db,
        "first": first,
        "before": before,
        "best": second,
        "after": _trials(db, second["study_name"]),
        "fresh": _trials(root / "fresh.journal", fresh["study_name"]),
    }


def test_resumed_study_keeps_completed_trials(resumed: dict) -> None:
    after = resumed["after"]
    assert resumed["best"]["study_name"] == resumed["first"]["study_name"]
    assert resumed["first"]["n_trials"] == 2 and resumed["best"]["n_trials"] == 3
    assert [t.state in FINISHED for t in after] == [True] * 3
    assert _summary(after[:2]) == _summary(resumed["before"])


def test_resumed_search_proposes_what_an_uninterrupted_one_does(resumed: dict) -> None:
    assert [t.params for t in resumed["fresh"]] == [t.params for t in resumed["after"]]
    assert len({tuple(sorted(t.params.items())) for t in resumed["after"]}) == 3


def test_best_params_json_and_reported_curve(resumed: dict) -> None:
    best = resumed["best"]
    complete = [t for t in resumed["after"] if t.state == TrialState.COMPLETE]
    assert sorted(best["params"]) == sorted(architectures.get("resnet").hyperparameters)
    assert best["value"] == min(t.value for t in complete)
    assert best["seed"] == 5 and best["modality"] == "cineecg"
    assert all(sorted(t.intermediate_values) == [1, 2] for t in complete)
    assert all(t.value == min(t.intermediate_values.values()) for t in complete)
    space = SPACE
    assert space["width"][0] <= best["params"]["width"] <= space["width"][1]
    assert best["params"]["kernel_size"] in space["kernel_size"]


def test_killed_study_resumes_and_finishes(resumed: dict, tmp_path: Path) -> None:
    db, out = tmp_path / "study.journal", tmp_path / "best.json"
    shutil.copy(resumed["db"], db)
    name = resumed["best"]["study_name"]
    study = optuna.load_study(study_name=name, storage=open_storage(db))
    study.ask()  # killed mid-trial: left RUNNING
    study.tell(study.ask(), state=TrialState.FAIL)  # crashed trial
    best = _tune(resumed["data"], db, out, n_trials=4)
    trials = _trials(db, name)
    states = [t.state for t in trials]
    assert sum(s in FINISHED for s in states) == 4 and TrialState.RUNNING not in states
    assert states.count(TrialState.FAIL) == 2
    assert best["n_trials"] == 4 and best["n_failed"] == 2
    assert _summary(trials[:3]) == _summary(resumed["after"])


def test_changed_search_space_starts_a_new_study(resumed: dict, tmp_path: Path) -> None:
    db, out = tmp_path / "study.journal", tmp_path / "best.json"
    shutil.copy(resumed["db"], db)
    new = _tune(
        resumed["data"],
        db,
        out,
        n_trials=1,
        architectures={**CFG["architectures"], "resnet": {**SPACE, "width": [4, 6]}},
    )
    old_name = resumed["best"]["study_name"]
    assert new["study_name"] != old_name
    assert set(optuna.get_all_study_names(open_storage(db))) == {old_name, new["study_name"]}
    assert new["n_trials"] == 1 and 4 <= new["params"]["width"] <= 6
    assert len(_trials(db, old_name)) == 3


HOLDER = textwrap.dedent(
    """
    import sys, time
    from cinexai.models.tuning import study_lock
    with study_lock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(120)
    """
)


def test_tune_refuses_a_worker_in_use_by_another_process(tmp_path: Path) -> None:
    """An orphaned worker (here: a process holding its lock) blocks a rerun, naming its pid."""
    db, out = tmp_path / "study.journal", tmp_path / "worker-0.json"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(
            RuntimeError, match=rf"in use by another tune process \(pid {holder.pid}\)"
        ):
            tune(
                signals=tmp_path / "none",
                records=tmp_path / "none",
                storage=db,
                out_worker=out,
                modality="ecg12",
                cfg=CFG,
                seed=0,
            )
        assert not db.exists()  # refused before touching the study
    finally:
        holder.kill()
        holder.wait()
    with study_lock(out) as lock:  # the kernel dropped the dead holder's lock
        assert lock.read_text() == str(os.getpid())


def test_imn_is_tuned_in_its_own_study_over_its_own_space(resumed: dict, tmp_path: Path) -> None:
    """Same modality and data, architecture imn: a separate study drawing lambda and widths."""
    workers = [tmp_path / "imn-worker-0.json"]
    tune(
        signals=resumed["data"][0],
        records=resumed["data"][1],
        storage=tmp_path / "imn.journal",
        out_worker=workers[0],
        modality="cineecg",
        cfg={**CFG, "n_trials": 1},
        seed=5,
        arch="imn",
    )
    out = tmp_path / "imn.json"
    gather(
        storage=tmp_path / "imn.journal",
        workers=workers,
        out_best=out,
        modality="cineecg",
        cfg={**CFG, "n_trials": 1},
        seed=5,
        arch="imn",
    )
    best = read_json(out)
    assert best["architecture"] == "imn" and best["study_name"].startswith("cineecg-imn-")
    assert sorted(best["params"]) == sorted(architectures.get("imn").hyperparameters)
    space = CFG["architectures"]["imn"]
    assert space["l1_lambda"][0] <= best["params"]["l1_lambda"] <= space["l1_lambda"][1]
    assert best["search_space"] == space


WORKER = textwrap.dedent(
    """
    import json, pathlib, sys, time
    from cinexai.models import tuning
    signals, records, storage, out, worker, cfg, hang, start = sys.argv[1:]
    real_fit, calls = tuning.fit, []
    def fit(*args, **kwargs):
        calls.append(1)
        if start and len(calls) == 1:  # in its first trial, wait until every worker is in one
            pathlib.Path(start, worker).touch()
            while len(list(pathlib.Path(start).iterdir())) < 2:
                time.sleep(0.05)
        if hang and len(calls) == 2:  # hang in the second trial until the test kills it
            pathlib.Path(hang).touch()
            time.sleep(600)
        return real_fit(*args, **kwargs)
    tuning.fit = fit
    tuning.tune(signals=signals, records=records, storage=storage, out_worker=out,
                modality="cineecg", cfg=json.loads(cfg), seed=5, worker=int(worker))
    """
)


def _worker(
    data: tuple[Path, Path],
    db: Path,
    out: Path,
    worker: int,
    cfg: dict,
    hang: str = "",
    start: str = "",
) -> subprocess.Popen:
    """Worker ``worker`` of the study in its own process (hanging in its second trial when
    ``hang`` names a file to touch; when ``start`` names a folder, its first trial waits until
    the other worker is in its first trial too, so the two run trials at the same time)."""
    args = [*map(str, (*data, db, out, worker)), json.dumps(cfg), hang, start]
    return subprocess.Popen([sys.executable, "-c", WORKER, *args])


def test_two_concurrent_workers_share_one_journal_study(resumed: dict, tmp_path: Path) -> None:
    """W=2 processes at once: n_trials in all, both run their share, interleaved in time."""
    cfg = {**CFG, "n_trials": 5, "tune_workers": 2}
    db, outs = tmp_path / "study.journal", [tmp_path / f"worker-{i}.json" for i in range(2)]
    (tmp_path / "ready").mkdir()
    procs = [
        _worker(resumed["data"], db, outs[i], i, cfg, start=str(tmp_path / "ready"))
        for i in range(2)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    gather(
        storage=db,
        workers=outs,
        out_best=tmp_path / "best.json",
        modality="cineecg",
        cfg=cfg,
        seed=5,
    )
    best = read_json(tmp_path / "best.json")
    trials = _trials(db, best["study_name"])
    assert [t.state in FINISHED for t in trials] == [True] * 5 and best["n_trials"] == 5
    by_worker = {i: [t for t in trials if t.user_attrs["worker"] == i] for i in range(2)}
    assert [len(by_worker[0]), len(by_worker[1])] == [3, 2]
    spans = [
        (min(t.datetime_start for t in mine), max(t.datetime_complete for t in mine))
        for mine in by_worker.values()
    ]
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1]  # trials ran at the same time
    study = optuna.load_study(study_name=best["study_name"], storage=open_storage(db))
    assert best["params"] == study.best_params and best["value"] == study.best_value
    assert best["best_trial"] == study.best_trial.number and best["storage"] == "journal"
    assert [w["seed"] for w in best["workers"]] == [worker_seed(5, 0), worker_seed(5, 1)]
    assert worker_seed(5, 0) == 5 != worker_seed(5, 1)
    assert sorted(
        best["workers"][1]["trials"]["COMPLETE"] + best["workers"][1]["trials"].get("PRUNED", [])
    ) == sorted(t.number for t in by_worker[1])


def test_killed_worker_loses_only_its_running_trial(resumed: dict, tmp_path: Path) -> None:
    """SIGKILL worker 1 in its second trial; its rerun fails that trial and completes the study."""
    cfg = {**CFG, "n_trials": 4, "tune_workers": 2}
    db, outs = tmp_path / "study.journal", [tmp_path / f"worker-{i}.json" for i in range(2)]
    hang = tmp_path / "hanging"
    proc = _worker(resumed["data"], db, outs[1], 1, cfg, str(hang))
    for _ in range(600):
        if hang.exists() or proc.poll() is not None:
            break
        time.sleep(0.5)
    assert hang.exists(), "worker 1 never reached its second trial"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL and not outs[1].exists()
    best = _tune(resumed["data"], db, tmp_path / "best.json", **cfg)  # reruns workers 0 and 1
    trials = _trials(db, best["study_name"])
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert [(t.number, t.user_attrs["worker"]) for t in failed] == [(1, 1)]
    assert sum(t.state in FINISHED for t in trials) == 4 and best["n_trials"] == 4
    assert best["n_failed"] == 1 and TrialState.RUNNING not in {t.state for t in trials}
    assert [t.user_attrs["worker"] for t in trials if t.state in FINISHED] == [1, 0, 0, 1]


def test_rdb_storage_url_with_two_workers(resumed: dict, tmp_path: Path) -> None:
    """models.tune_storage as sqlite:///: the workers share the RDB study, 3 trials as 2 + 1."""
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    best = _tune(resumed["data"], url, tmp_path / "best.json", n_trials=3, tune_workers=2)
    trials = _trials(url, best["study_name"])
    assert [t.user_attrs["worker"] for t in trials] == [0, 0, 1]
    assert best["n_trials"] == 3 and best["storage"] == "sqlite"
    assert optuna.get_all_study_names(url) == [best["study_name"]]
    assert best["value"] == min(t.value for t in trials if t.state == TrialState.COMPLETE)
