"""Drive a running annotation server the way many reviewers do (tests and benchmarks/).

:func:`server` starts ``cinexai annotate serve`` as a real subprocess on 127.0.0.1 and a free port;
:func:`run_load` logs in each reviewer through their one-time token and sends ``saves`` autosaves
per reviewer concurrently (one thread per reviewer, loopback only), recording each latency.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running server subprocess: its base URL and process."""

    base: str
    proc: subprocess.Popen
    log: Path

    def kill(self) -> None:
        """SIGKILL (no shutdown hook runs) and reap."""
        self.proc.kill()
        self.proc.wait(TIMEOUT_S)


@contextlib.contextmanager
def server(
    bundle: str | os.PathLike[str], db: str | os.PathLike[str], log: str | os.PathLike[str]
) -> Iterator[Server]:
    """Start the server, wait until it answers, stop it (terminate, then kill) on exit."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "cinexai.annotate.cli", "annotate", "serve"]
    cmd += ["--bundle", str(bundle), "--db", str(db), "--port", str(port), "--log-level", "warning"]
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    srv = Server(f"http://127.0.0.1:{port}", proc, Path(log))
    try:
        deadline = time.monotonic() + 60.0
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited ({proc.returncode}): {Path(log).read_text()}")
            try:
                if requests.get(f"{srv.base}/api/protocol", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not answer in 60 s: {Path(log).read_text()}")
            time.sleep(0.2)
        yield srv
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(TIMEOUT_S)


@dataclass
class Client:
    """A logged-in reviewer (requests session with the cookie) and their CSRF token."""

    base: str
    http: requests.Session
    csrf: str
    work: list[dict]

    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf, "Origin": self.base}

    def save(self, work_id: str, seq: int, state: dict, submit: bool = False) -> requests.Response:
        url = f"{self.base}/api/work/{work_id}" + ("/submit" if submit else "")
        method = self.http.post if submit else self.http.put
        return method(
            url, json={"seq": seq, "state": state}, headers=self.headers(), timeout=TIMEOUT_S
        )


def login(base: str, token: str) -> Client:
    """Spend a login token the way the login page does; raise if refused."""
    http = requests.Session()
    r = http.post(f"{base}/api/login", json={"token": token}, headers={"Origin": base}, timeout=30)
    r.raise_for_status()
    me = http.get(f"{base}/api/me", timeout=TIMEOUT_S).json()
    return Client(base, http, me["csrf"], me.get("work", []))


def mark_state(n: int) -> dict:
    """A state with ``n`` distinct 12-lead segments (n-th save of the load)."""
    marks = [
        {"lead": "V2", "kind": "segment", "start_ms": 150.0 + 0.1 * k, "end_ms": 250.0 + 0.1 * k}
        for k in range(n)
    ]
    return {"diagnosis": "abnormal", "note": f"save {n}", "marks": {"ecg12": marks, "cineecg": []}}


@dataclass
class LoadResult:
    latencies_s: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    wall_s: float = 0.0


def run_load(base: str, tokens: Sequence[str], saves: int) -> tuple[LoadResult, list[Client]]:
    """Each reviewer sends ``saves`` autosaves (seq 1..saves) to their first case, all at once."""
    clients = [login(base, t) for t in tokens]
    result = LoadResult()

    def one(client: Client) -> tuple[list[float], list[str]]:
        lat, bad = [], []
        work_id = client.work[0]["id"]
        for seq in range(1, saves + 1):
            t0 = time.perf_counter()
            r = client.save(work_id, seq, mark_state(seq))
            lat.append(time.perf_counter() - t0)
            if r.status_code != 200:
                bad.append(f"seq {seq}: {r.status_code} {r.text[:200]}")
        return lat, bad

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        for lat, bad in pool.map(one, clients):
            result.latencies_s += lat
            result.failures += bad
    result.wall_s = time.perf_counter() - t0
    return result, clients
