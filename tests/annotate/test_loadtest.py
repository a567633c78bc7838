"""Load and crash safety against the real server: nothing lost, nothing duplicated."""

from __future__ import annotations

import sqlite3
from collections import Counter

from cinexai.annotate.db import Store
from cinexai.annotate.loadtest import login, mark_state, run_load, server

REVIEWERS, SAVES = 20, 50


def test_20_reviewers_x_50_autosaves_lose_and_duplicate_nothing(study):
    tokens = [study.add_reviewer(f"dr_{k:02d}") for k in range(REVIEWERS)]
    result, clients = run_load(study.base, tokens, SAVES)
    assert result.failures == []
    assert len(result.latencies_s) == REVIEWERS * SAVES
    store = Store(study.db)
    with sqlite3.connect(study.db) as con:
        ids = dict(con.execute("SELECT name, id FROM reviewers").fetchall())
    audit = [e for e in store.audit() if e["action"] == "save"]
    assert len(audit) == REVIEWERS * SAVES
    for k, client in enumerate(clients):
        rid = ids[f"dr_{k:02d}"]
        item = store.work(rid, client.work[0]["id"])
        assert item["seq"] == SAVES and item["state"] == mark_state(SAVES)
        seqs = Counter(e["seq"] for e in audit if e["reviewer_id"] == rid)
        assert sorted(seqs) == list(range(1, SAVES + 1)) and set(seqs.values()) == {1}
        others = [store.work(rid, w["id"])["seq"] for w in client.work[1:]]
        assert others == [0] * len(others)  # no save landed on another item


def test_killed_server_loses_no_submitted_annotation(study, tmp_path):
    a = login(study.base, study.add_reviewer("dr_a"))
    submitted, saved = a.work[0]["id"], a.work[1]["id"]
    assert a.save(submitted, 1, mark_state(3), submit=True).status_code == 200
    assert a.save(saved, 1, mark_state(2)).status_code == 200
    study.srv.kill()  # SIGKILL: no shutdown hook, no checkpoint
    assert study.srv.proc.returncode == -9
    with server(study.paths["bundle"], study.db, tmp_path / "restart.log") as again:
        me = a.http.get(f"{again.base}/api/me", timeout=30).json()  # the session survives too
        done = {w["id"]: w for w in me["work"]}
        assert done[submitted]["submitted"] and not done[saved]["submitted"]
        got = a.http.get(f"{again.base}/api/work/{submitted}", timeout=30).json()
        assert got["state"] == mark_state(3) and got["seq"] == 1
        got = a.http.get(f"{again.base}/api/work/{saved}", timeout=30).json()
        assert got["state"] == mark_state(2)
