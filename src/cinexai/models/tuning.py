"""Optuna hyperparameter search (TPE + median pruning), resumable from its SQLite study.

Entry point of the ``tune`` rule: :func:`tune`. The study name hashes everything that defines the
search (architecture, its search space, epochs per trial, augmentation, seed, objective, data
signature): a changed search starts a new study in the same ``study.db``, while a killed run
resumes the same one and runs only the missing trials. Trial ``k`` (counting finished trials) is
sampled by a TPE sampler seeded with ``seed + k``, so an interrupted-and-resumed search proposes
the same trials as an uninterrupted one. One process at a time: :func:`study_lock` makes a second
tune on the same study refuse to start."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState
from tqdm import tqdm

from cinexai.io import package_versions, write_json
from cinexai.models import architectures
from cinexai.models.augment import TimeMask
from cinexai.models.checkpoint import resolve_device
from cinexai.models.data import ModelData, channel_stats, load_model_data
from cinexai.models.training import (
    build_model,
    configure_runtime,
    fit,
    seed_everything,
    time_mask,
)

log = logging.getLogger(__name__)

#: What a trial minimises; part of the study name so a changed objective starts a new study.
OBJECTIVE = "min_val_cross_entropy"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
PRUNER_STARTUP_TRIALS = 5


def study_name(
    modality: str, cfg: Mapping[str, Any], data_signature: str, seed: int, arch: str = "resnet"
) -> str:
    """``{modality}-{arch}-{hash}`` over the architecture's search space, tuning epochs,
    augmentation, seed, objective and data."""
    key = json.dumps(
        {
            "architecture": arch,
            "search_space": cfg["architectures"][arch],
            "tuning_epochs": cfg["tuning_epochs"],
            "augment": cfg["augment"],
            "seed": seed,
            "objective": OBJECTIVE,
            "data": data_signature,
        },
        sort_keys=True,
    )
    return f"{modality}-{arch}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def suggest(trial: optuna.Trial, space: Mapping[str, Any], arch: str = "resnet") -> dict[str, Any]:
    """Draw one ``arch`` configuration from its search space (ranges inclusive, lr log-uniform)."""
    return architectures.suggest(trial, arch, space)


class Objective:
    """Train on 'train' for ``epochs`` epochs, report the 'val' loss each epoch, return its min."""

    def __init__(
        self,
        data: ModelData,
        space: Mapping[str, Any],
        epochs: int,
        device: Any,
        seed: int,
        augment: TimeMask | None = None,
        arch: str = "resnet",
    ) -> None:
        self.data, self.space, self.epochs, self.device, self.seed, self.augment = (
            data,
            space,
            epochs,
            device,
            seed,
            augment,
        )
        self.arch = arch
        self.mean, self.std = channel_stats(data.splits["train"].X, data.channels)

    def __call__(self, trial: optuna.Trial) -> float:
        params = suggest(trial, self.space, self.arch)
        seed_everything(self.seed)  # same initialisation stream for every configuration
        model = build_model(
            params, len(self.data.channels), self.data.n_samples, self.mean, self.std, self.arch
        )

        def report(epoch: int, val_loss: float) -> None:
            trial.report(val_loss, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"val loss {val_loss:.4f} at epoch {epoch}")

        result = fit(
            model,
            self.data.splits["train"],
            self.data.splits["val"],
            lr=params["lr"],
            batch_size=params["batch_size"],
            max_epochs=self.epochs,
            patience=None,
            device=self.device,
            seed=self.seed,
            on_epoch=report,
            desc=f"trial {trial.number}",
            augment=self.augment,
        )
        trial.set_user_attr("best_epoch", result.best_epoch)
        trial.set_user_attr("seconds_per_epoch", result.seconds_per_epoch)
        return result.best_val_loss


def _fail_leftovers(study: optuna.Study) -> None:
    """Mark trials left RUNNING/WAITING by a killed run as FAIL (they never count)."""
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        log.warning(
            "trial %d of study %s was left %s by an interrupted run; marking it FAIL",
            trial.number,
            study.study_name,
            trial.state.name,
        )
        study.tell(trial.number, state=TrialState.FAIL)


def _n_finished(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))


@contextlib.contextmanager
def study_lock(study_db: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold an exclusive ``flock`` on ``{study_db}.lock`` (holding this pid) while tuning.

    Raises RuntimeError naming the holder's pid when another process holds it: a rerun must not
    run trials beside a tune that is still writing the study (an orphan of a killed Snakemake).
    The kernel drops the lock when its holder exits, however it exits.
    """
    path = Path(f"{study_db}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise RuntimeError(
                f"study {study_db} is in use by another tune process (pid {holder}); wait for it "
                f"to finish or stop it (kill {holder}), then rerun"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def tune(
    *,
    signals: str | os.PathLike[str],
    records: str | os.PathLike[str],
    study_db: str | os.PathLike[str],
    out_best: str | os.PathLike[str],
    modality: str,
    cfg: dict[str, Any],
    seed: int,
    arch: str = "resnet",
    threads: int = 1,
) -> None:
    """Run (or resume) the Optuna study of (``modality``, ``arch``) up to ``n_trials`` trials.

    Finished = COMPLETE or PRUNED; FAILED or RUNNING leftovers of a killed run do not count.
    Writes ``out_best`` (JSON): best params and value, trial counts, study name, seed.
    Refuses to start while another process tunes the same study (see :func:`study_lock`).
    """
    with study_lock(study_db):
        _tune(signals, records, study_db, out_best, modality, cfg, seed, threads, arch)


def _tune(
    signals: str | os.PathLike[str],
    records: str | os.PathLike[str],
    study_db: str | os.PathLike[str],
    out_best: str | os.PathLike[str],
    modality: str,
    cfg: dict[str, Any],
    seed: int,
    threads: int,
    arch: str,
) -> None:
    """:func:`tune` under the study lock."""
    configure_runtime(seed, threads)
    device = resolve_device(str(cfg["device"]))
    data = load_model_data(signals, records, modality)
    epochs = int(cfg["tuning_epochs"])
    name = study_name(modality, cfg, data.signature(), seed, arch)
    Path(study_db).parent.mkdir(parents=True, exist_ok=True)
    storage = optuna.storages.RDBStorage(f"sqlite:///{Path(study_db).resolve()}")
    pruner = optuna.pruners.MedianPruner(
        n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=max(1, epochs // 4)
    )
    study = optuna.create_study(
        study_name=name, storage=storage, direction="minimize", load_if_exists=True, pruner=pruner
    )
    _fail_leftovers(study)
    objective = Objective(
        data, cfg["architectures"][arch], epochs, device, seed, time_mask(cfg, data.fs), arch
    )
    n_trials = int(cfg["n_trials"])
    remaining = max(0, n_trials - _n_finished(study))
    log.info(
        "study %s in %s: %d finished, %d to run", name, study_db, _n_finished(study), remaining
    )
    for _ in tqdm(range(remaining), desc=f"tune {modality}/{arch}"):
        # One sampler per trial, seeded by the number of finished trials: resume-invariant.
        sampler = optuna.samplers.TPESampler(seed=seed + _n_finished(study))
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
        study.optimize(objective, n_trials=1)
    _write_best(study, out_best, modality, cfg, seed, str(device), arch)


def _write_best(
    study: optuna.Study,
    out_best: str | os.PathLike[str],
    modality: str,
    cfg: Mapping[str, Any],
    seed: int,
    device: str,
    arch: str,
) -> None:
    states = [t.state for t in study.get_trials(deepcopy=False)]
    if TrialState.COMPLETE not in states:
        raise ValueError(
            f"study {study.study_name}: no COMPLETE trial to take best params from "
            f"(states: {[s.name for s in states]})"
        )
    best = study.best_trial
    write_json(
        {
            "params": best.params,
            "value": best.value,
            "metric": OBJECTIVE,
            "direction": "minimize",
            "best_trial": best.number,
            "n_trials": states.count(TrialState.COMPLETE) + states.count(TrialState.PRUNED),
            "n_complete": states.count(TrialState.COMPLETE),
            "n_pruned": states.count(TrialState.PRUNED),
            "n_failed": states.count(TrialState.FAIL),
            "study_name": study.study_name,
            "seed": seed,
            "modality": modality,
            "architecture": arch,
            "search_space": cfg["architectures"][arch],
            "tuning_epochs": cfg["tuning_epochs"],
            "augment": cfg["augment"],
            "device": device,
            "versions": package_versions(),
        },
        out_best,
    )
