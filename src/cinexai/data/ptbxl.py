"""PTB-XL metadata: database and statements, normal/abnormal labels, cohort selection and splits.

The same code reads the real PTB-XL 1.0.3 and the embedded synthetic one (same layout).
Selection, in this order, every random draw from ``seed``:

1. evaluation cohort = the annotated case ids; their patients leave every other split;
2. reference pool = ``reference_pool`` NORMAL records from patients whose records are all normal,
   drawn before the balanced subset so that train/val/test stay class-balanced (at most
   ``REFERENCE_MAX_FRACTION`` of the available normal records, for tiny datasets);
3. class-balanced subset of ``n_records`` from the rest (half per class, capped by the minority);
4. train/val/test by ``StratifiedGroupKFold`` over patients (no patient in two splits).
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from cinexai.data.layout import DATABASE, STATEMENTS
from cinexai.evaluation.annotations import read_annotations

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("patient_id", "scp_codes", "filename_lr", "filename_hr")
#: The reference pool takes at most this fraction of the available normal records.
REFERENCE_MAX_FRACTION = 0.4
#: Diagnostic class of normal ECGs in scp_statements.csv.
NORM = "NORM"


def read_database(ptbxl_dir: str | Path) -> pd.DataFrame:
    """ptbxl_database.csv indexed by int ``ecg_id``; ``patient_id`` int64, ``scp_codes`` dicts."""
    path = Path(ptbxl_dir) / DATABASE
    db = pd.read_csv(path, index_col="ecg_id")
    missing = [c for c in REQUIRED_COLUMNS if c not in db.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}")
    db.index = db.index.astype(np.int64)
    if db.index.duplicated().any():
        raise ValueError(f"{path}: duplicate ecg_id {int(db.index[db.index.duplicated()][0])}")
    if db["patient_id"].isna().any():
        first = int(db.index[db["patient_id"].isna()][0])
        raise ValueError(f"{path}: no patient_id for ecg_id {first}")
    db["patient_id"] = db["patient_id"].astype(np.int64)
    db["scp_codes"] = [_parse_codes(text, ecg_id, path) for ecg_id, text in db["scp_codes"].items()]
    return db


def _parse_codes(text: str, ecg_id: int, path: Path) -> dict[str, float]:
    try:
        codes = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise ValueError(f"{path}: ecg_id {ecg_id}: unparseable scp_codes {text!r}") from exc
    if not isinstance(codes, dict):
        raise ValueError(f"{path}: ecg_id {ecg_id}: scp_codes is not a dict: {text!r}")
    return {str(k): float(v) for k, v in codes.items()}


def read_statements(ptbxl_dir: str | Path) -> pd.DataFrame:
    """scp_statements.csv indexed by statement code."""
    path = Path(ptbxl_dir) / STATEMENTS
    statements = pd.read_csv(path, index_col=0)
    for column in ("diagnostic", "diagnostic_class"):
        if column not in statements.columns:
            raise ValueError(f"{path}: missing column {column!r}")
    return statements


def label_records(
    db: pd.DataFrame, statements: pd.DataFrame, norm_likelihood: float
) -> tuple[pd.Series, pd.Series]:
    """Normal (0) / abnormal (1) labels and the reasons of the records that get none.

    Diagnostic statements are the ``diagnostic == 1`` rows of scp_statements.  Abnormal: any
    diagnostic class other than NORM (any likelihood).  Normal: NORM only, with likelihood
    >= ``norm_likelihood``.  No label: no diagnostic statement, or an uncertain NORM only.
    """
    diagnostic = statements.loc[statements["diagnostic"] == 1, "diagnostic_class"].to_dict()
    labels, reasons = {}, {}
    for ecg_id, codes in db["scp_codes"].items():
        classes: dict[str, float] = {}
        for code, likelihood in codes.items():
            if code in diagnostic:
                cls = diagnostic[code]
                classes[cls] = max(classes.get(cls, 0.0), likelihood)
        if not classes:
            reasons[ecg_id] = "no diagnostic statement"
        elif set(classes) != {NORM}:
            labels[ecg_id] = 1
        elif classes[NORM] >= norm_likelihood:
            labels[ecg_id] = 0
        else:
            reasons[ecg_id] = f"uncertain NORM: likelihood {classes[NORM]:g} < {norm_likelihood:g}"
    return (
        pd.Series(labels, dtype=np.int8, name="label").rename_axis("ecg_id"),
        pd.Series(reasons, dtype=object, name="reason").rename_axis("ecg_id"),
    )


def read_case_ids(path: str | Path) -> list[int]:
    """Unique case ids (sorted) of an annotation file, CSV or Parquet (the rows are validated later,
    by the masks stage)."""
    table = read_annotations(path)
    if "case_id" not in table.columns:
        raise ValueError(f"{path}: no 'case_id' column")
    column = table["case_id"]
    numeric = pd.to_numeric(column, errors="coerce")
    bad = numeric.isna() | (numeric != numeric.round())
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"{path}: row {row}: case_id {column.iloc[row]!r} is not an integer id")
    return sorted({int(v) for v in numeric})


def read_case_diagnoses(path: str | Path) -> dict[int, str]:
    """The expert diagnosis (normal/abnormal) of each annotated case, first row's (the masks stage
    validates the rows and rejects a case annotated with two); {} without a diagnosis column."""
    table = read_annotations(path)
    if "diagnosis" not in table.columns:
        return {}
    ids = pd.to_numeric(table["case_id"], errors="coerce")
    out: dict[int, str] = {}
    for case, diagnosis in zip(ids, table["diagnosis"].astype(str).str.strip(), strict=True):
        if diagnosis in ("normal", "abnormal") and not pd.isna(case):
            out.setdefault(int(case), diagnosis)
    return out


def label_conflicts(labels: pd.Series, diagnoses: dict[int, str]) -> list[dict]:
    """Annotated cases whose expert diagnosis contradicts the database's normal/abnormal label."""
    conflicts = []
    for case, diagnosis in sorted(diagnoses.items()):
        if case in labels.index:
            label = "abnormal" if int(labels[case]) else "normal"
            if label != diagnosis:
                conflicts.append(
                    {"ecg_id": case, "database_label": label, "annotation_diagnosis": diagnosis}
                )
    return conflicts


def draw_reference(pool: pd.DataFrame, size: int, rng: np.random.Generator) -> pd.Index:
    """Up to ``size`` normal records from whole patients whose records in ``pool`` are all normal.

    Patients are visited in random order and taken when all their records still fit, so the pool
    holds exactly ``size`` records whenever single-record patients allow it.
    """
    all_normal = pool.groupby("patient_id")["label"].max() == 0
    patients = np.sort(all_normal.index[all_normal.to_numpy()].to_numpy())
    counts = pool.groupby("patient_id").size()
    chosen, total = [], 0
    for patient in rng.permutation(patients):
        if total + counts[patient] <= size:
            chosen.append(patient)
            total += counts[patient]
        if total == size:
            break
    return pool.index[pool["patient_id"].isin(chosen)]


def balanced_subset(pool: pd.DataFrame, n_records: int, rng: np.random.Generator) -> pd.Index:
    """``n_records / 2`` records per class, drawn without replacement, capped by the minority."""
    per_class = {c: np.sort(pool.index[pool["label"] == c].to_numpy()) for c in (0, 1)}
    for c, ids in per_class.items():
        if ids.size == 0:
            raise ValueError(f"no {'abnormal' if c else 'normal'} records left for the subset")
    k = min(n_records // 2, *(ids.size for ids in per_class.values()))
    if k < n_records // 2:
        log.info(
            "balanced subset capped at %d per class (asked %d; normal %d, abnormal %d available)",
            k,
            n_records // 2,
            per_class[0].size,
            per_class[1].size,
        )
    chosen = [rng.choice(ids, size=k, replace=False) for ids in per_class.values()]
    return pd.Index(np.sort(np.concatenate(chosen)), name="ecg_id")


def split_patients(frame: pd.DataFrame, fractions: Sequence[float], seed: int) -> pd.Series:
    """train/val/test per record, stratified by label, grouped by patient.

    ``StratifiedGroupKFold`` with k folds where k makes the val and test fractions whole numbers
    of folds (k = 5 for 60/20/20); test takes the first folds, val the next, train the rest.
    """
    train, val, test = (float(f) / sum(fractions) for f in fractions)
    if min(train, val, test) <= 0:
        raise ValueError(f"split fractions must all be positive, got {list(fractions)}")
    k = max(3, int(round(1 / min(val, test))))
    n_test, n_val = max(1, round(test * k)), max(1, round(val * k))
    n_groups = frame["patient_id"].nunique()
    if n_groups < k:
        raise ValueError(f"{n_groups} patients cannot be split {list(fractions)} ({k} folds)")
    folds = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    fold = np.empty(len(frame), dtype=int)
    for i, (_, idx) in enumerate(folds.split(frame, frame["label"], frame["patient_id"])):
        fold[idx] = i
    split = np.where(fold < n_test, "test", np.where(fold < n_test + n_val, "val", "train"))
    return pd.Series(split, index=frame.index, name="split")


def select_records(
    db: pd.DataFrame, labels: pd.Series, evaluation_ids: Sequence[int], cfg: dict, seed: int
) -> pd.DataFrame:
    """Records that enter ingestion: ``ecg_id`` index, ``patient_id``, ``label``, ``split``.

    Raises ``ValueError`` naming the first evaluation case id missing from the database.
    """
    missing = [int(i) for i in evaluation_ids if int(i) not in db.index]
    if missing:
        raise ValueError(
            f"annotated case id {missing[0]} not in ptbxl_database.csv "
            f"({len(missing)} missing: {missing[:10]})"
        )
    unlabelled = [int(i) for i in evaluation_ids if int(i) not in labels.index]
    if unlabelled:
        log.warning("evaluation case(s) without a label, excluded: %s", unlabelled)
    frame = db[["patient_id"]].join(labels, how="inner")
    evaluation_patients = set(db.loc[list(evaluation_ids), "patient_id"])
    is_evaluation = frame.index.isin(list(evaluation_ids))
    held = frame["patient_id"].isin(evaluation_patients) & ~is_evaluation
    if held.any():
        log.info("%d record(s) of evaluation patients left out of every other split", held.sum())
    pool = frame[~frame["patient_id"].isin(evaluation_patients)]

    rng = np.random.default_rng(seed)
    n_normal = int((pool["label"] == 0).sum())
    size = min(int(cfg["reference_pool"]), int(REFERENCE_MAX_FRACTION * n_normal))
    if size < int(cfg["reference_pool"]):
        log.info(
            "reference pool capped at %d (asked %d; %d normal records available)",
            size,
            cfg["reference_pool"],
            n_normal,
        )
    reference = draw_reference(pool, size, rng)
    if len(reference) < size:
        log.info("reference pool holds %d records (asked %d)", len(reference), size)
    pool = pool[~pool["patient_id"].isin(pool.loc[reference, "patient_id"])]
    subset = pool.loc[balanced_subset(pool, int(cfg["n_records"]), rng)]
    subset = subset.assign(split=split_patients(subset, cfg["split"], seed))
    parts = [
        frame[is_evaluation].assign(split="evaluation"),
        frame.loc[reference].assign(split="reference"),
        subset,
    ]
    return pd.concat(parts).sort_index()
