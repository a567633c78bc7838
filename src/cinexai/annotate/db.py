"""SQLite store of the annotation platform: reviewers, hashed tokens and sessions, work, audit.

WAL mode (readers never block the writer), ``synchronous=FULL`` (a committed save survives a killed
server), one short connection per call so the server's worker threads never share one. Secrets
(login tokens, session ids) are stored only as SHA-256 hashes. Each reviewer's work item (one per
case, under a per-reviewer random id, in a per-reviewer random order) is addressed only together
with the reviewer's id, so another reviewer's item reads as "not found". Every change lands in the
``audit`` table (who, the full new state, when) in the same transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS reviewers (
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reviewer', 'admin')),
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_tokens (
    token_hash TEXT PRIMARY KEY,
    reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
    created_at TEXT NOT NULL,
    expires_at REAL NOT NULL,
    used_at TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    session_hash TEXT PRIMARY KEY,
    reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS work (
    id TEXT PRIMARY KEY,
    reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
    case_key TEXT NOT NULL,
    position INTEGER NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT,
    submitted_at TEXT,
    UNIQUE (reviewer_id, case_key),
    UNIQUE (reviewer_id, position)
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    reviewer_id INTEGER,
    action TEXT NOT NULL,
    work_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
"""
LOGIN_TTL_S = 7 * 24 * 3600.0
SESSION_TTL_S = 12 * 3600.0


class NotFound(LookupError):
    """No such item for this reviewer (also: another reviewer's item)."""


class Conflict(RuntimeError):
    """The item is locked (submitted) or the save is older than the stored one."""

    def __init__(self, message: str, seq: int) -> None:
        super().__init__(message)
        self.seq = seq


@dataclass(frozen=True)
class Session:
    reviewer_id: int
    name: str
    role: str
    csrf: str


def digest(secret: str) -> str:
    """SHA-256 hex of a token: what the database keeps instead of the token."""
    return hashlib.sha256(secret.encode()).hexdigest()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Store:
    """The platform's database file (created with its schema on first use)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        con = sqlite3.connect(self.path, timeout=30.0)
        try:
            con.execute("PRAGMA journal_mode=WAL")  # persistent: the file stays in WAL mode
            con.executescript(SCHEMA)
        finally:
            con.close()

    @contextlib.contextmanager
    def connect(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One connection, one transaction (IMMEDIATE for writes): committed, or rolled back."""
        con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            con.execute("PRAGMA busy_timeout=30000")
            con.execute("PRAGMA synchronous=FULL")
            con.execute("PRAGMA foreign_keys=ON")
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    @staticmethod
    def _audit(
        con: sqlite3.Connection,
        reviewer_id: int | None,
        action: str,
        work_id: str | None = None,
        **detail: Any,
    ) -> None:
        con.execute(
            "INSERT INTO audit (at, reviewer_id, action, work_id, detail) VALUES (?, ?, ?, ?, ?)",
            (now(), reviewer_id, action, work_id, json.dumps(detail, sort_keys=True)),
        )

    # ------------------------------------------------------------------ reviewers and access

    def add_reviewer(self, name: str, case_keys: Sequence[str], admin: bool = False) -> str:
        """Create a reviewer with every case in a fresh random order; return a one-time token.

        An existing reviewer keeps their work and gets a new login token (old ones stay valid
        until used or expired).
        """
        if not name.strip():
            raise ValueError("reviewer name must not be empty")
        token = secrets.token_urlsafe(32)
        with self.connect() as con:
            row = con.execute("SELECT id FROM reviewers WHERE name = ?", (name,)).fetchone()
            if row is None:
                role = "admin" if admin else "reviewer"
                cur = con.execute(
                    "INSERT INTO reviewers (name, role, created_at) VALUES (?, ?, ?)",
                    (name, role, now()),
                )
                rid = int(cur.lastrowid)
                if not admin:
                    order = list(case_keys)
                    secrets.SystemRandom().shuffle(order)
                    con.executemany(
                        "INSERT INTO work (id, reviewer_id, case_key, position) VALUES (?, ?, ?, ?)",
                        [(secrets.token_urlsafe(12), rid, k, i) for i, k in enumerate(order)],
                    )
                self._audit(con, rid, "add_reviewer", role=role, n_cases=len(case_keys))
            else:
                rid = int(row[0])
            con.execute(
                "INSERT INTO login_tokens (token_hash, reviewer_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (digest(token), rid, now(), time.time() + LOGIN_TTL_S),
            )
            self._audit(con, rid, "issue_login_link")
        return token

    def login(self, token: str) -> tuple[str, Session]:
        """Spend a one-time login token; return a new session id and the session."""
        with self.connect() as con:
            row = con.execute(
                "SELECT t.reviewer_id, t.used_at, t.expires_at, r.name, r.role FROM login_tokens t "
                "JOIN reviewers r ON r.id = t.reviewer_id WHERE t.token_hash = ?",
                (digest(token),),
            ).fetchone()
            refused = row is None or row[1] is not None or row[2] < time.time()
            if refused:  # audited (committed) before the refusal is raised below
                self._audit(con, row[0] if row else None, "login_refused")
            else:
                rid, name, role = int(row[0]), row[3], row[4]
                con.execute(
                    "UPDATE login_tokens SET used_at = ? WHERE token_hash = ?",
                    (now(), digest(token)),
                )
                sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
                con.execute(
                    "INSERT INTO sessions (session_hash, reviewer_id, csrf, created_at, expires_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (digest(sid), rid, csrf, now(), time.time() + SESSION_TTL_S),
                )
                self._audit(con, rid, "login")
        if refused:
            raise NotFound("login link unknown, used or expired")
        return sid, Session(rid, name, role, csrf)

    def session(self, sid: str | None) -> Session | None:
        """The live session of a session id, or None."""
        if not sid:
            return None
        with self.connect(write=False) as con:
            row = con.execute(
                "SELECT s.reviewer_id, r.name, r.role, s.csrf, s.expires_at FROM sessions s "
                "JOIN reviewers r ON r.id = s.reviewer_id WHERE s.session_hash = ?",
                (digest(sid),),
            ).fetchone()
        if row is None or row[4] < time.time():
            return None
        return Session(int(row[0]), row[1], row[2], row[3])

    def logout(self, sid: str, reviewer_id: int) -> None:
        with self.connect() as con:
            con.execute("DELETE FROM sessions WHERE session_hash = ?", (digest(sid),))
            self._audit(con, reviewer_id, "logout")

    # ------------------------------------------------------------------ work

    def work_list(self, reviewer_id: int) -> list[dict[str, Any]]:
        """The reviewer's own items in their order: id, position, seq, submitted."""
        with self.connect(write=False) as con:
            rows = con.execute(
                "SELECT id, position, seq, submitted_at FROM work WHERE reviewer_id = ? "
                "ORDER BY position",
                (reviewer_id,),
            ).fetchall()
        return [
            {"id": r[0], "position": r[1] + 1, "seq": r[2], "submitted": r[3] is not None}
            for r in rows
        ]

    def work(self, reviewer_id: int, work_id: str) -> dict[str, Any]:
        """One of the reviewer's own items (case_key included: server side only)."""
        with self.connect(write=False) as con:
            row = con.execute(
                "SELECT case_key, position, seq, state, submitted_at FROM work "
                "WHERE id = ? AND reviewer_id = ?",
                (work_id, reviewer_id),
            ).fetchone()
        if row is None:
            raise NotFound(work_id)
        return {
            "case_key": row[0],
            "position": row[1] + 1,
            "seq": row[2],
            "state": json.loads(row[3]),
            "submitted": row[4] is not None,
        }

    def save(
        self, reviewer_id: int, work_id: str, seq: int, state: dict[str, Any], submit: bool = False
    ) -> int:
        """Store ``state`` if ``seq`` is newer than the stored one; ``submit`` also locks it."""
        with self.connect() as con:
            row = con.execute(
                "SELECT seq, submitted_at FROM work WHERE id = ? AND reviewer_id = ?",
                (work_id, reviewer_id),
            ).fetchone()
            if row is None:
                raise NotFound(work_id)
            stored, submitted = int(row[0]), row[1]
            if submitted is not None:
                raise Conflict("case already submitted (locked)", stored)
            if seq <= stored:
                raise Conflict(f"save {seq} is not newer than the stored save {stored}", stored)
            stamp = now()
            con.execute(
                "UPDATE work SET seq = ?, state = ?, updated_at = ?, submitted_at = ? WHERE id = ?",
                (seq, json.dumps(state, sort_keys=True), stamp, stamp if submit else None, work_id),
            )
            self._audit(
                con, reviewer_id, "submit" if submit else "save", work_id, seq=seq, state=state
            )
        return seq

    # ------------------------------------------------------------------ admin and export

    def progress(self) -> list[dict[str, Any]]:
        """Per reviewer: cases assigned, started, submitted (counts only, no annotations)."""
        with self.connect(write=False) as con:
            rows = con.execute(
                "SELECT r.name, r.role, COUNT(w.id), SUM(w.seq > 0), SUM(w.submitted_at IS NOT NULL) "
                "FROM reviewers r LEFT JOIN work w ON w.reviewer_id = r.id "
                "GROUP BY r.id ORDER BY r.name"
            ).fetchall()
        return [
            {
                "reviewer": r[0],
                "role": r[1],
                "assigned": int(r[2]),
                "started": int(r[3] or 0),
                "submitted": int(r[4] or 0),
            }
            for r in rows
            if r[1] == "reviewer"
        ]

    def all_work(self, submitted_only: bool = True) -> list[dict[str, Any]]:
        """Every reviewer's items with state (export only; never served)."""
        query = (
            "SELECT r.name, w.case_key, w.state, w.submitted_at FROM work w "
            "JOIN reviewers r ON r.id = w.reviewer_id"
        )
        if submitted_only:
            query += " WHERE w.submitted_at IS NOT NULL"
        with self.connect(write=False) as con:
            rows = con.execute(query + " ORDER BY r.name, w.case_key").fetchall()
        return [
            {"reviewer": r[0], "case_key": r[1], "state": json.loads(r[2]), "submitted_at": r[3]}
            for r in rows
        ]

    def audit(self) -> list[dict[str, Any]]:
        with self.connect(write=False) as con:
            rows = con.execute(
                "SELECT at, reviewer_id, action, work_id, detail FROM audit ORDER BY id"
            ).fetchall()
        return [
            {"at": r[0], "reviewer_id": r[1], "action": r[2], "work_id": r[3], **json.loads(r[4])}
            for r in rows
        ]
