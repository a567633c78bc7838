"""Access control, CSRF, locking and protocol checks of the real server (requests over loopback)."""

from __future__ import annotations

import sqlite3

import requests

from cinexai.annotate.db import Store
from cinexai.annotate.loadtest import login, mark_state

SEGMENT = {"lead": "V2", "kind": "segment", "start_ms": 40.0, "end_ms": 70.0}


def _state(*marks, diagnosis="normal"):
    return {"diagnosis": diagnosis, "note": "", "marks": {"ecg12": list(marks), "cineecg": []}}


def _saves(db) -> int:
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT COUNT(*) FROM audit WHERE action IN ('save','submit')"
        ).fetchone()[0]


def test_login_link_is_one_time_and_secrets_are_stored_hashed(study):
    token = study.add_reviewer("dr_a")
    r = requests.post(
        f"{study.base}/api/login", json={"token": token}, headers={"Origin": study.base}
    )
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    sid = r.cookies["cinexai_session"]
    again = requests.post(
        f"{study.base}/api/login", json={"token": token}, headers={"Origin": study.base}
    )
    assert again.status_code == 401
    dump = "\n".join(sqlite3.connect(study.db).iterdump())
    assert token not in dump and sid not in dump
    assert requests.get(f"{study.base}/api/me", timeout=30).status_code == 401


def test_reviewer_b_can_neither_read_nor_write_a_work(study):
    a = login(study.base, study.add_reviewer("dr_a"))
    b = login(study.base, study.add_reviewer("dr_b"))
    assert {w["id"] for w in a.work}.isdisjoint(w["id"] for w in b.work)  # per-reviewer ids
    own = a.work[0]["id"]
    assert a.save(own, 1, _state(SEGMENT)).status_code == 200
    for url in (f"/api/work/{own}", f"/api/work/{own}/case"):
        assert b.http.get(study.base + url, timeout=30).status_code == 404
    assert b.save(own, 2, _state()).status_code == 404
    assert b.save(own, 2, _state(), submit=True).status_code == 404
    item = Store(study.db).work(_rid(study, "dr_a"), own)
    assert item["seq"] == 1 and item["state"]["marks"]["ecg12"][0]["lead"] == "V2"
    assert not item["submitted"]
    # orders are drawn per reviewer: the case behind position 1 is the same bundle set, shuffled
    keys_a = [Store(study.db).work(_rid(study, "dr_a"), w["id"])["case_key"] for w in a.work]
    keys_b = [Store(study.db).work(_rid(study, "dr_b"), w["id"])["case_key"] for w in b.work]
    assert sorted(keys_a) == sorted(keys_b)


def _rid(study, name) -> int:
    with sqlite3.connect(study.db) as con:
        return con.execute("SELECT id FROM reviewers WHERE name = ?", (name,)).fetchone()[0]


def test_forged_posts_are_refused_and_write_nothing(study):
    a = login(study.base, study.add_reviewer("dr_a"))
    url = f"{study.base}/api/work/{a.work[0]['id']}"
    body = {"seq": 1, "state": _state(SEGMENT)}
    forged = [
        {"Origin": study.base},  # no CSRF token
        {"Origin": study.base, "X-CSRF-Token": "guess"},  # wrong token
        {"Origin": "http://evil.example", "X-CSRF-Token": a.csrf},  # other site
        {"X-CSRF-Token": a.csrf},  # no Origin or Referer
        {"Referer": "http://evil.example/page", "X-CSRF-Token": a.csrf},
    ]
    for headers in forged:
        assert a.http.put(url, json=body, headers=headers, timeout=30).status_code == 403, headers
        assert (
            a.http.post(url + "/submit", json=body, headers=headers, timeout=30).status_code == 403
        )
    form = a.http.post(
        url + "/submit", data={"seq": "1"}, headers={"Origin": "http://evil.example"}
    )
    assert form.status_code == 403
    assert _saves(study.db) == 0
    assert Store(study.db).work(_rid(study, "dr_a"), a.work[0]["id"])["seq"] == 0
    assert a.save(a.work[0]["id"], 1, _state(SEGMENT)).status_code == 200  # the real page can


def test_submit_locks_and_stale_saves_lose(study):
    a = login(study.base, study.add_reviewer("dr_a"))
    wid = a.work[0]["id"]
    assert a.save(wid, 2, mark_state(2)).status_code == 200
    stale = a.save(wid, 1, mark_state(1))
    assert stale.status_code == 409 and stale.json()["seq"] == 2
    assert a.save(wid, 3, _state(diagnosis=None), submit=True).status_code == 422  # no diagnosis
    assert a.save(wid, 3, _state(SEGMENT), submit=True).status_code == 200
    locked = a.save(wid, 4, _state())
    assert locked.status_code == 409
    got = a.http.get(f"{study.base}/api/work/{wid}", timeout=30).json()
    assert got["submitted"] and got["seq"] == 3 and got["state"]["marks"]["ecg12"] == [SEGMENT]
    trail = [e for e in Store(study.db).audit() if e["work_id"] == wid]
    assert [(e["action"], e["seq"]) for e in trail] == [("save", 2), ("submit", 3)]
    assert trail[1]["state"]["marks"]["ecg12"] == [SEGMENT] and trail[1]["at"]  # what and when


def test_server_enforces_the_protocol_windows(study):
    a = login(study.base, study.add_reviewer("dr_a"))
    wid = a.work[0]["id"]
    narrow_qrs = {"lead": "V1", "kind": "segment", "start_ms": 40.0, "end_ms": 60.0}  # 20 < 25
    narrow_rest = {"lead": "V1", "kind": "segment", "start_ms": 200.0, "end_ms": 240.0}  # 40 < 50
    bad_lead = {"lead": "V7", "kind": "segment", "start_ms": 40.0, "end_ms": 90.0}
    outside = {"lead": "V1", "kind": "segment", "start_ms": 380.0, "end_ms": 450.0}
    for seq, mark in enumerate((narrow_qrs, narrow_rest, bad_lead, outside), start=1):
        r = a.save(wid, seq, _state(mark))
        assert r.status_code == 422, mark
    ok_qrs = {"lead": "V1", "kind": "segment", "start_ms": 40.0, "end_ms": 65.0}
    ok_rest = {"lead": "V1", "kind": "segment", "start_ms": 200.0, "end_ms": 250.0}
    point = {"lead": "V1", "kind": "point", "start_ms": 120.0, "end_ms": 120.0}
    assert a.save(wid, 1, _state(ok_qrs, ok_rest, point)).status_code == 200
    cine = {"diagnosis": None, "note": "", "marks": {"cineecg": [dict(ok_qrs, lead="V1")]}}
    assert a.save(wid, 2, cine).status_code == 422  # the trajectory is marked as a whole


def test_admin_sees_progress_only(study):
    a = login(study.base, study.add_reviewer("dr_a"))
    admin = login(study.base, study.add_reviewer("lead", admin=True))
    a.save(a.work[0]["id"], 1, _state(SEGMENT))
    rows = admin.http.get(f"{study.base}/api/progress", timeout=30).json()
    assert rows == [
        {"reviewer": "dr_a", "role": "reviewer", "assigned": 3, "started": 1, "submitted": 0}
    ]
    assert admin.http.get(f"{study.base}/api/work/{a.work[0]['id']}", timeout=30).status_code == 403
    assert a.http.get(f"{study.base}/api/progress", timeout=30).status_code == 403
