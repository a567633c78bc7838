"""The SQLite store: per-reviewer random order, hashed secrets, ordered saves, audit."""

from __future__ import annotations

import sqlite3

import pytest

from cinexai.annotate.db import Conflict, NotFound, Store

KEYS = [f"key{k}" for k in range(8)]


def test_each_reviewer_gets_every_case_in_an_own_random_order(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    orders = []
    for k in range(5):
        store.add_reviewer(f"r{k}", KEYS)
        with sqlite3.connect(tmp_path / "s.sqlite") as con:
            rid = con.execute("SELECT id FROM reviewers WHERE name = ?", (f"r{k}",)).fetchone()[0]
        orders.append([store.work(rid, w["id"])["case_key"] for w in store.work_list(rid)])
    assert all(sorted(o) == KEYS for o in orders)
    assert len({tuple(o) for o in orders}) > 1  # 5 identical shuffles of 8: p = 40320^-4


def test_tokens_are_one_time_and_only_their_hashes_are_stored(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    token = store.add_reviewer("r0", KEYS)
    sid, session = store.login(token)
    assert store.session(sid) == session and session.name == "r0"
    with pytest.raises(NotFound):
        store.login(token)
    dump = "\n".join(sqlite3.connect(tmp_path / "s.sqlite").iterdump())
    assert token not in dump and sid not in dump
    assert store.session("forged") is None
    assert [e["action"] for e in store.audit()] == [
        "add_reviewer",
        "issue_login_link",
        "login",
        "login_refused",
    ]


def test_saves_apply_in_sequence_and_submit_locks(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    store.login(store.add_reviewer("r0", KEYS))
    rid, wid = 1, store.work_list(1)[0]["id"]
    store.save(rid, wid, 2, {"diagnosis": None, "marks": {}})
    with pytest.raises(Conflict) as stale:
        store.save(rid, wid, 2, {"diagnosis": "normal", "marks": {}})
    assert stale.value.seq == 2
    with pytest.raises(NotFound):
        store.save(rid + 1, wid, 3, {})  # not this reviewer's item
    store.save(rid, wid, 3, {"diagnosis": "normal", "marks": {}}, submit=True)
    with pytest.raises(Conflict, match="locked"):
        store.save(rid, wid, 4, {})
    assert store.work(rid, wid)["submitted"] and store.work(rid, wid)["seq"] == 3
    assert store.progress() == [
        {"reviewer": "r0", "role": "reviewer", "assigned": 8, "started": 1, "submitted": 1}
    ]
