"""Glue for Snakemake ``script:`` files: send logging, warnings and progress bars to the rule's log."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def logged(snakemake: Any) -> Iterator[logging.Logger]:
    """Redirect stdout/stderr (tqdm) and the ``cinexai`` loggers into ``snakemake.log[0]``."""
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
