"""An offline HTML index of the per-case figures, so a reader finds every case from one page."""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path

from cinexai.io import atomic_write


def write_index(*, figures: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]) -> None:
    """Write ``out`` (HTML) linking each case folder's figures, relative to ``out``'s folder."""
    out = Path(out)
    cases: dict[str, list[Path]] = {}
    for path in map(Path, figures):
        cases.setdefault(path.parent.name, []).append(path)
    rows = []
    for case in sorted(cases, key=lambda c: (len(c), c)):
        links = " ".join(
            f'<a href="{html.escape(os.path.relpath(p, out.parent))}">{html.escape(p.name)}</a>'
            for p in sorted(cases[case])
        )
        rows.append(f"<tr><td>{html.escape(case)}</td><td>{links}</td></tr>")
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>cinexai cases</title></head>"
        "<body><h1>Annotated cases</h1><table><tr><th>case</th><th>figures</th></tr>"
        + "".join(rows)
        + "</table></body></html>\n"
    )
    with atomic_write(out) as tmp:
        tmp.write_text(page)
