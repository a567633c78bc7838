"""The case index: one offline page a clinician browses to find a case and open its figures.

A table with a row per case: a thumbnail of its 12-lead figure, the expert diagnosis, the record's
family (its SCP statement of highest likelihood), each (modality, architecture) model's
P(abnormal), the prediction of the 12-lead model of ``figures.architecture`` and whether it agrees
with the expert, and the Dice of each figure configuration (``figures.method`` on
``figures.architecture``, the IMN's intrinsic map) per source and architecture; every column sorts
on a click on its header. Thumbnails are embedded (data URIs) and the
sorting script is inline, so the page works from disk, inside the Snakemake report, and without a
network connection; case links are relative to the page.
"""

from __future__ import annotations

import ast
import base64
import html
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from PIL import Image

from cinexai import grid
from cinexai.io import atomic_write, read_table

PathLike = str | os.PathLike[str]
#: Thumbnail bounding box in pixels (width, height).
THUMBNAIL = (360, 240)


def family(scp_codes: str) -> str:
    """The SCP statement of highest likelihood of a PTB-XL ``scp_codes`` field ('' if none)."""
    codes = ast.literal_eval(scp_codes) if scp_codes else {}
    return min(codes, key=lambda c: (-float(codes[c]), c)) if codes else ""


def thumbnail(png: PathLike) -> str:
    """A small PNG of figure ``png`` as a data URI."""
    with Image.open(png) as image:
        image = image.convert("RGB")
        image.thumbnail(THUMBNAIL)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def case_table(
    *,
    cases: Sequence[int],
    masks: PathLike,
    database: PathLike,
    predictions: Mapping[tuple[str, str], PathLike],
    scores: Mapping[tuple[str, str, str], PathLike],
    architecture: str,
) -> pd.DataFrame:
    """One row per case: diagnosis, family, P(abnormal) per ``(modality, arch)`` model
    (``p_{modality}_{arch}``), the prediction of the 12-lead model of ``architecture`` and its
    agreement with the expert, Dice per ``(source, arch, method)`` score file
    (``dice_{source}_{arch}_{method}``; NaN where a case is not scored)."""
    frame = pd.DataFrame({"case_id": sorted(int(c) for c in cases)}).set_index("case_id")
    expert = read_table(masks, columns=["case_id", "diagnosis"]).groupby("case_id")["diagnosis"]
    expert = expert.first()  # one diagnosis per case (as the case figures take it)
    frame["diagnosis"] = expert.reindex(frame.index).fillna("")
    db = pd.read_csv(database, index_col="ecg_id", usecols=["ecg_id", "scp_codes"])
    frame["family"] = db["scp_codes"].reindex(frame.index).fillna("").map(family)
    for (modality, arch), path in predictions.items():
        pred = read_table(path, columns=["id", "prob_abnormal", "pred"]).set_index("id")
        frame[f"p_{modality}_{arch}"] = pred["prob_abnormal"].reindex(frame.index)
        if (modality, arch) == (grid.ECG12, architecture):
            predicted = pred["pred"].reindex(frame.index)
            frame["prediction"] = predicted.map({1: "abnormal", 0: "normal"}).fillna("")
            frame["agreement"] = [
                "" if not p else ("agrees" if p == d else "disagrees")
                for p, d in zip(frame["prediction"], frame["diagnosis"], strict=True)
            ]
    for (source, arch, method), path in scores.items():
        dice = read_table(path, columns=["case_id", "dice"]).groupby("case_id")["dice"].mean()
        frame[f"dice_{source}_{arch}_{method}"] = dice.reindex(frame.index)
    return frame.reset_index()


def _cell(value: object, digits: int = 2) -> str:
    """A table cell whose ``data-sort`` key sorts numbers as numbers and blanks last."""
    if isinstance(value, float):
        if pd.isna(value):
            return '<td data-sort="">&ndash;</td>'
        return f'<td data-sort="{value:.6f}">{value:.{digits}f}</td>'
    text = html.escape(str(value))
    return f'<td data-sort="{text}">{text}</td>'


_SCRIPT = """
document.querySelectorAll("th[data-col]").forEach(function (th) {
  th.addEventListener("click", function () {
    var body = document.querySelector("#cases tbody"), col = +th.dataset.col;
    var asc = th.getAttribute("aria-sort") !== "ascending";
    document.querySelectorAll("th[data-col]").forEach(function (h) {
      h.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var key = function (row) { return row.cells[col].dataset.sort; };
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === "" || y === "") { return (x === "") - (y === ""); }
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = isNaN(nx) || isNaN(ny) ? x.localeCompare(y) : nx - ny;
      return asc ? c : -c;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""

_STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: middle; }
th[data-col] { cursor: pointer; background: #f3f3f3; position: sticky; top: 0; }
th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
td.disagrees { color: #b00; font-weight: bold; }
img { display: block; max-width: 360px; }
"""

#: Model modalities' labels in the P(abnormal) headers.
MODALITY_LABELS = {grid.ECG12: "12-lead", grid.CINEECG: "CineECG"}


def index_columns(
    predictions: Sequence[tuple[str, str]],
    scores: Sequence[tuple[str, str, str]],
    architecture: str,
) -> list[tuple[str, str]]:
    """(header, column of :func:`case_table`) of the sortable columns after case and thumbnail:
    P(abnormal) per model, then Dice per (source, arch, method) in that order."""
    return [
        ("diagnosis (expert)", "diagnosis"),
        ("family", "family"),
        *((f"P(abnormal) {MODALITY_LABELS.get(m, m)} {a}", f"p_{m}_{a}") for m, a in predictions),
        (f"prediction (12-lead {architecture})", "prediction"),
        ("agreement", "agreement"),
        *((f"Dice {s} {a} {m}", f"dice_{s}_{a}_{m}") for s, a, m in scores),
    ]


def render_index(
    table: pd.DataFrame,
    figures: Mapping[int, Sequence[Path]],
    out: Path,
    columns: Sequence[tuple[str, str]],
) -> str:
    """The page for ``table`` (from :func:`case_table`); ``figures`` maps case -> its files;
    ``columns`` from :func:`index_columns`."""
    columns = [(h, c) for h, c in columns if c in table.columns]
    head = '<th data-col="0">case</th><th>12-lead figure</th>' + "".join(
        f'<th data-col="{i}">{html.escape(h)}</th>' for i, (h, _) in enumerate(columns, start=2)
    )
    rows = []
    for row in table.itertuples(index=False):
        case = int(row.case_id)
        files = sorted(figures.get(case, ()))
        links = " ".join(
            f'<a href="{html.escape(Path(os.path.relpath(p, out.parent)).as_posix())}">'
            f"{html.escape(p.name)}</a>"
            for p in files
        )
        png = next((p for p in files if p.name == "ecg12.png"), None)
        thumb = f'<img alt="case {case}" src="{thumbnail(png)}">' if png else ""
        cells = [f'<td data-sort="{case}"><b>{case}</b><br>{links}</td>', f"<td>{thumb}</td>"]
        for _, column in columns:
            value = getattr(row, column)
            cell = _cell(value)
            if column == "agreement" and value == "disagrees":
                cell = cell.replace("<td ", '<td class="disagrees" ', 1)
            cells.append(cell)
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>cinexai: annotated cases</title>"
        f"<style>{_STYLE}</style></head><body><h1>Annotated cases</h1>"
        f"<p>{len(rows)} cases; click a column header to sort. Case links open its figures.</p>"
        f'<table id="cases"><thead><tr>{head}</tr></thead><tbody>'
        + "".join(rows)
        + f"</tbody></table><script>{_SCRIPT}</script></body></html>\n"
    )


def write_index(
    *,
    figures: Sequence[PathLike],
    masks: PathLike,
    database: PathLike,
    predictions: Sequence[PathLike],
    scores: Sequence[PathLike],
    architecture: str,
    out: PathLike,
) -> None:
    """Write the case index ``out`` over the case folders of ``figures`` (``cases/{case}/...``).

    ``predictions`` are ``models/{modality}/{arch}/predictions.parquet`` files; ``scores`` the
    figure configurations' score files (``.../source=/arch=/method=/...``), in column order;
    ``architecture`` (``figures.architecture``) picks the 12-lead model whose prediction is shown.
    """
    out = Path(out)
    by_case: dict[int, list[Path]] = {}
    for path in map(Path, figures):
        by_case.setdefault(int(path.parent.name), []).append(path)
    models = {(Path(p).parent.parent.name, Path(p).parent.name): p for p in predictions}
    cells = {}
    for path in map(Path, scores):
        keys = dict(p.split("=", 1) for p in path.parts if "=" in p)
        cells[(keys["source"], keys["arch"], keys["method"])] = path
    table = case_table(
        cases=list(by_case),
        masks=masks,
        database=database,
        predictions=models,
        scores=cells,
        architecture=architecture,
    )
    page = render_index(table, by_case, out, index_columns(list(models), list(cells), architecture))
    with atomic_write(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
