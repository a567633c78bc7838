"""``cinexai annotate add-reviewer | progress | export`` (in process; serve is tested live)."""

from __future__ import annotations

import json

import pandas as pd
from annotate_data import CASES, make_bundle

from cinexai.annotate.cli import main
from cinexai.annotate.db import Store


def test_add_reviewer_progress_and_export(tmp_path, capsys):
    paths = make_bundle(tmp_path)
    db = tmp_path / "private" / "s.sqlite"
    common = ["--bundle", str(paths["bundle"]), "--db", str(db)]
    assert (
        main(["annotate", "add-reviewer", "dr_a", *common, "--base-url", "http://127.0.0.1:9"]) == 0
    )
    link = capsys.readouterr().out.strip()
    assert link.startswith("http://127.0.0.1:9/login#") and len(link.split("#")[1]) >= 40
    store = Store(db)
    _, session = store.login(link.split("#")[1])
    work = store.work_list(session.reviewer_id)
    state = {
        "diagnosis": "normal",
        "note": "",
        "marks": {
            "ecg12": [],
            "cineecg": [{"lead": "*", "kind": "point", "start_ms": 30.0, "end_ms": 30.0}],
        },
    }
    store.save(session.reviewer_id, work[0]["id"], 1, state, submit=True)
    store.save(session.reviewer_id, work[1]["id"], 1, state)  # open: not exported by default
    assert main(["annotate", "progress", "--db", str(db), "--json"]) == 0
    progress = json.loads(capsys.readouterr().out)
    assert progress == [
        {"reviewer": "dr_a", "role": "reviewer", "assigned": 3, "started": 2, "submitted": 1}
    ]
    out = tmp_path / "ann.csv"
    args = [
        "annotate",
        "export",
        "--db",
        str(db),
        "--key-map",
        str(paths["key_map"]),
        "--out",
        str(out),
    ]
    assert main(args) == 0
    rows = pd.read_csv(out, keep_default_na=False)
    assert len(rows) == 1 and rows["case_id"].iloc[0] in CASES and rows["lead"].iloc[0] == "*"
    assert main([*args, "--include-open"]) == 0
    assert len(pd.read_csv(out)) == 2
