"""The files of a PTB-XL folder that a run reads (stdlib only: listed while Snakemake builds the DAG).

They are the ingest rule's inputs, so replacing a record (or the database or statements table)
reruns ingest and what follows.
"""

from __future__ import annotations

import csv
from pathlib import Path

DATABASE = "ptbxl_database.csv"
STATEMENTS = "scp_statements.csv"
#: The database column naming each record's WFDB files, per sampling rate (Hz).
FILENAME_COLUMN = {500: "filename_hr", 100: "filename_lr"}
#: A WFDB record is a header and a signal file.
RECORD_SUFFIXES = (".hea", ".dat")


def record_files(ptbxl_dir: str | Path, sampling_rate: int) -> list[str]:
    """The statements table and every record's WFDB files at ``sampling_rate`` that exist, in
    database order.

    A missing file is left out: ingest reports a missing table and excludes a missing record with
    its reason, and adding the file later changes the list (so the rule reruns). An unknown
    sampling rate or a database without the column is also left to ingest to report.
    """
    root = Path(ptbxl_dir)
    column = FILENAME_COLUMN.get(int(sampling_rate))
    files = [root / STATEMENTS]
    with (root / DATABASE).open(newline="") as handle:
        for row in csv.DictReader(handle):
            name = (row.get(column) or "").strip() if column else ""
            if name:
                files += [root / f"{name}{suffix}" for suffix in RECORD_SUFFIXES]
    return [str(f) for f in files if f.is_file()]
