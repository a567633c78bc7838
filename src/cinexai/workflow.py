"""Glue for Snakemake ``script:`` files: send logging, warnings and progress bars to the rule's log,
and make the job die with the Snakemake process that started it."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: prctl(2) option: signal to deliver when the parent process dies (Linux).
PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent dies; False where unsupported.

    A Snakemake job script's parent is the Snakemake process itself (bash execs the script), so a
    ``kill -9`` of Snakemake no longer leaves the job running as an orphan that keeps writing its
    outputs (e.g. the Optuna study of ``tune``) beside a rerun.
    """
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), sig)
    return True


@contextlib.contextmanager
def logged(snakemake: Any) -> Iterator[logging.Logger]:
    """Redirect stdout/stderr (tqdm) and the ``cinexai`` loggers into ``snakemake.log[0]``; the job
    dies with its parent (see :func:`die_with_parent`)."""
    die_with_parent()
    path = Path(snakemake.log[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(path, "w", buffering=1) as fh,
        contextlib.redirect_stderr(fh),
        contextlib.redirect_stdout(fh),
    ):
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)
        log = logging.getLogger(f"cinexai.rule.{snakemake.rule}")
        log.info("rule %s, wildcards %s", snakemake.rule, dict(snakemake.wildcards.items()))
        try:
            yield log
        except Exception:
            log.exception("rule %s failed", snakemake.rule)
            raise
        finally:
            root.removeHandler(handler)
            sys.stderr.flush()
