"""Optuna hyperparameter search (TPE + median pruning), shared by W worker processes, resumable.

Entry points: :func:`tune` (one worker; the ``tune`` rule) and :func:`gather` (best params of the
study; the ``tune_best`` rule). The W workers of a (modality, architecture) share one study in a
storage safe for concurrent processes on a shared filesystem (:func:`open_storage`: Optuna's journal
file with a file lock, or an RDB URL). The study name hashes everything that defines the search
(architecture, its search space, epochs per trial, augmentation, seed, number of workers,
objective, data signature): a changed search starts a new study in the same storage, while a killed
worker resumes the same one and runs only its missing trials.

Trial counts are per worker: worker ``i`` runs ``n_trials // W`` trials plus one if
``i < n_trials % W``, counting the finished (COMPLETE or PRUNED) trials it tagged with its index, so
the study ends with exactly ``n_trials`` finished trials however the workers interleave (Optuna's
``MaxTrialsCallback`` checks the count after a trial, so concurrent workers overshoot it). Worker
``i``'s ``k``-th trial is sampled by a TPE sampler seeded with ``worker_seed(seed, i) + k``; with
W = 1 that is ``seed + k``, so an interrupted-and-resumed search proposes the same trials as an
uninterrupted one. Every trial initialises its model from ``seed`` whichever worker runs it.
A trial left RUNNING by a killed worker is marked FAIL when that worker starts again (a worker is
one Snakemake job, never run twice at once: :func:`study_lock`), and by :func:`gather` for trials
killed before they were tagged; FAIL trials never count."""

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
from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock, JournalStorage
from optuna.trial import TrialState
from tqdm import tqdm

from cinexai.io import package_versions, read_json, write_json
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
    augmentation, seed, number of workers (they share out the trials), objective and data."""
    key = json.dumps(
        {
            "architecture": arch,
            "search_space": cfg["architectures"][arch],
            "tuning_epochs": cfg["tuning_epochs"],
            "augment": cfg["augment"],
            "seed": seed,
            "workers": int(cfg.get("tune_workers", 1)),
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
        worker: int = 0,
    ) -> None:
        self.worker = worker
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
        trial.set_user_attr("worker", self.worker)  # first: its worker fails it if killed
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


#: Distance between worker seeds: worker i samples its k-th trial with seed + i * stride + k.
WORKER_SEED_STRIDE = 1_000_000


def worker_seed(seed: int, worker: int) -> int:
    """Sampler seed of ``worker`` (``seed`` itself for worker 0, so W = 1 samples as before)."""
    return seed + worker * WORKER_SEED_STRIDE


def worker_share(n_trials: int, workers: int, worker: int) -> int:
    """Trials worker ``worker`` of ``workers`` runs: the shares sum to ``n_trials`` exactly."""
    if not 0 <= worker < workers:
        raise ValueError(f"worker {worker} is not in 0..{workers - 1}")
    return n_trials // workers + (worker < n_trials % workers)


def open_storage(storage: str | os.PathLike[str]) -> optuna.storages.BaseStorage:
    """An RDB storage for a URL (``sqlite:///...``, ``postgresql://...``), else a journal file.

    The journal (:class:`optuna.storages.journal.JournalFileBackend`) appends operations to one
    file under :class:`~optuna.storages.journal.JournalFileOpenLock` (an ``O_EXCL``-created lock
    file, safe on NFSv3+ where SQLite's ``fcntl`` locks are not); a lock left by a killed
    process is broken after its 30 s grace period.
    """
    spec = os.fspath(storage)
    if "://" in spec:
        return optuna.storages.RDBStorage(spec)
    path = Path(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    backend = JournalFileBackend(str(path), lock_obj=JournalFileOpenLock(str(path)))
    return JournalStorage(backend)


def _fail_leftovers(study: optuna.Study, worker: int | None = None) -> None:
    """Mark trials left RUNNING/WAITING by a killed run as FAIL (they never count): those tagged
    with ``worker``, or all of them when ``worker`` is None (no worker is running)."""
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        if worker is not None and trial.user_attrs.get("worker") != worker:
            continue
        log.warning(
            "trial %d of study %s was left %s by an interrupted run; marking it FAIL",
            trial.number,
            study.study_name,
            trial.state.name,
        )
        study.tell(trial.number, state=TrialState.FAIL)


def _finished(study: optuna.Study, worker: int) -> int:
    """Finished trials of ``worker``."""
    trials = study.get_trials(deepcopy=False, states=FINISHED)
    return sum(t.user_attrs.get("worker") == worker for t in trials)


@contextlib.contextmanager
def study_lock(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold an exclusive ``flock`` on ``{path}.lock`` (holding this pid) while a worker tunes.

    Raises RuntimeError naming the holder's pid when another process holds it: a rerun of a
    worker must not run trials beside the same worker still writing the study (an orphan of a
    killed Snakemake), whose RUNNING trial it would otherwise mark FAIL.
    The kernel drops the lock when its holder exits, however it exits.
    """
    path = Path(f"{path}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise RuntimeError(
                f"tune worker {path.with_suffix('')} is in use by another tune process "
                f"(pid {holder}); wait for it to finish or stop it (kill {holder}), then rerun"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def _study(
    storage: optuna.storages.BaseStorage, name: str, epochs: int, sampler: Any = None
) -> optuna.Study:
    pruner = optuna.pruners.MedianPruner(
        n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=max(1, epochs // 4)
    )
    return optuna.create_study(
        study_name=name,
        storage=storage,
        direction="minimize",
        load_if_exists=True,
        pruner=pruner,
        sampler=sampler,
    )


def tune(
    *,
    signals: str | os.PathLike[str],
    records: str | os.PathLike[str],
    storage: str | os.PathLike[str],
    out_worker: str | os.PathLike[str],
    modality: str,
    cfg: dict[str, Any],
    seed: int,
    arch: str = "resnet",
    worker: int = 0,
    threads: int = 1,
) -> None:
    """Run (or resume) worker ``worker``'s share of the study of (``modality``, ``arch``).

    ``cfg["tune_workers"]`` workers share the study in ``storage`` (:func:`open_storage`).
    Writes ``out_worker`` (JSON): the study name, the worker's seed and its trial numbers.
    Refuses to start while another process runs the same worker (see :func:`study_lock`).
    """
    with study_lock(out_worker):
        _tune(signals, records, storage, out_worker, modality, cfg, seed, threads, arch, worker)


def _tune(
    signals: str | os.PathLike[str],
    records: str | os.PathLike[str],
    storage: str | os.PathLike[str],
    out_worker: str | os.PathLike[str],
    modality: str,
    cfg: dict[str, Any],
    seed: int,
    threads: int,
    arch: str,
    worker: int,
) -> None:
    """:func:`tune` under the worker lock."""
    workers = int(cfg.get("tune_workers", 1))
    share = worker_share(int(cfg["n_trials"]), workers, worker)
    configure_runtime(seed, threads)
    device = resolve_device(str(cfg["device"]))
    data = load_model_data(signals, records, modality)
    epochs = int(cfg["tuning_epochs"])
    name = study_name(modality, cfg, data.signature(), seed, arch)
    store = open_storage(storage)
    study = _study(store, name, epochs)
    _fail_leftovers(study, None if workers == 1 else worker)
    objective = Objective(
        data,
        cfg["architectures"][arch],
        epochs,
        device,
        seed,
        time_mask(cfg, data.fs),
        arch,
        worker,
    )
    remaining = max(0, share - _finished(study, worker))
    log.info(
        "study %s in %s, worker %d/%d: %d of its %d trials finished, %d to run",
        name,
        storage,
        worker,
        workers,
        share - remaining,
        share,
        remaining,
    )
    own_seed = worker_seed(seed, worker)
    for _ in tqdm(range(remaining), desc=f"tune {modality}/{arch} worker {worker}"):
        # One sampler per trial, seeded by the worker's finished trials: resume-invariant.
        sampler = optuna.samplers.TPESampler(seed=own_seed + _finished(study, worker))
        study = _study(store, name, epochs, sampler)
        study.optimize(objective, n_trials=1)
    mine = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("worker") == worker]
    write_json(
        {
            "study_name": name,
            "worker": worker,
            "workers": workers,
            "seed": own_seed,
            "n_trials": share,
            "trials": {t.state.name: [u.number for u in mine if u.state == t.state] for t in mine},
            "device": str(device),
            "versions": package_versions(),
        },
        out_worker,
    )


def gather(
    *,
    storage: str | os.PathLike[str],
    workers: list[str | os.PathLike[str]],
    out_best: str | os.PathLike[str],
    modality: str,
    cfg: Mapping[str, Any],
    seed: int,
    arch: str = "resnet",
) -> None:
    """Write ``out_best`` (JSON) from the best trial of the study the ``workers`` files name.

    Runs after every worker finished, so a trial still RUNNING was killed (before it was tagged
    with a worker): it is marked FAIL. Provenance: each worker's seed and finished trials.
    """
    reports = [read_json(path) for path in workers]
    names = {r["study_name"] for r in reports}
    if len(names) != 1:
        raise ValueError(f"tune worker files {list(map(str, workers))} name studies {names}")
    study = optuna.load_study(study_name=names.pop(), storage=open_storage(storage))
    _fail_leftovers(study)
    spec = os.fspath(storage)  # recorded as its kind: an RDB URL may hold a password
    kind = spec.split("://")[0] if "://" in spec else "journal"
    _write_best(study, out_best, modality, cfg, seed, reports[0]["device"], arch, reports, kind)


def _write_best(
    study: optuna.Study,
    out_best: str | os.PathLike[str],
    modality: str,
    cfg: Mapping[str, Any],
    seed: int,
    device: str,
    arch: str,
    workers: list[dict[str, Any]],
    storage: str,
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
            "storage": storage,
            "workers": [
                {"worker": w["worker"], "seed": w["seed"], "trials": w["trials"]} for w in workers
            ],
            "versions": package_versions(),
        },
        out_best,
    )
