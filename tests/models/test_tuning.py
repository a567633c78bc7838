"""Optuna study: resumable, kill-tolerant, search-space-aware, writes best_params.json."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from cinexai.config import defaults
from cinexai.io import read_json
from cinexai.models import architectures
from cinexai.models.tuning import study_lock, tune

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


def _tune(data: tuple[Path, Path], db: Path, out: Path, **overrides) -> dict:
    tune(
        signals=data[0],
        records=data[1],
        study_db=db,
        out_best=out,
        modality="cineecg",
        cfg={**CFG, **overrides},
        seed=5,
        threads=1,
    )
    return read_json(out)


def _trials(db: Path, name: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{db}").get_trials()


def _summary(trials: list[optuna.trial.FrozenTrial]) -> list[tuple]:
    return [(t.number, t.state, t.params, t.value, t.datetime_start) for t in trials]


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory, make_problem) -> dict:
    """A 2-trial study resumed to 3 trials, and an uninterrupted 3-trial study."""
    root = tmp_path_factory.mktemp("tune")
    data = make_problem(root / "data", "cineecg", n_samples=48)
    db, out = root / "study.db", root / "best.json"
    first = _tune(data, db, out)
    before = _trials(db, first["study_name"])
    second = _tune(data, db, out, n_trials=3)
    fresh = _tune(data, root / "fresh.db", root / "fresh.json", n_trials=3)
    return {
        "data": data,
        "db": db,
        "first": first,
        "before": before,
        "best": second,
        "after": _trials(db, second["study_name"]),
        "fresh": _trials(root / "fresh.db", fresh["study_name"]),
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
    db, out = tmp_path / "study.db", tmp_path / "best.json"
    shutil.copy(resumed["db"], db)
    name = resumed["best"]["study_name"]
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{db}")
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
    db, out = tmp_path / "study.db", tmp_path / "best.json"
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
    assert set(optuna.get_all_study_names(f"sqlite:///{db}")) == {old_name, new["study_name"]}
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


def test_tune_refuses_a_study_in_use_by_another_process(tmp_path: Path) -> None:
    """An orphaned tune (here: a process holding the study lock) blocks a rerun, naming its pid."""
    db = tmp_path / "study.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(
            RuntimeError, match=rf"in use by another tune process \(pid {holder.pid}\)"
        ):
            tune(
                signals=tmp_path / "none",
                records=tmp_path / "none",
                study_db=db,
                out_best=tmp_path / "best.json",
                modality="ecg12",
                cfg=CFG,
                seed=0,
            )
        assert not db.exists()  # refused before touching the study
    finally:
        holder.kill()
        holder.wait()
    with study_lock(db) as lock:  # the kernel dropped the dead holder's lock
        assert lock.read_text() == str(os.getpid())


def test_imn_is_tuned_in_its_own_study_over_its_own_space(resumed: dict, tmp_path: Path) -> None:
    """Same modality and data, architecture imn: a separate study drawing lambda and widths."""
    out = tmp_path / "imn.json"
    tune(
        signals=resumed["data"][0],
        records=resumed["data"][1],
        study_db=tmp_path / "imn.db",
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
