"""The annotation server (FastAPI): blinded cases, per-reviewer work, autosave, submit, admin.

Access: a one-time login link ``/login#<token>`` (the token sits in the URL fragment, which the
browser never sends, so no server or proxy logs it); the login page posts it once and gets a
session cookie (HttpOnly, SameSite=Strict; ``Secure`` when served over https). Every
state-changing request needs the session's CSRF token in ``X-CSRF-Token`` *and* an ``Origin`` (or
``Referer``) of this server; anything else is refused with 403 before it touches the store. A
reviewer addresses work only by their own random work ids; another reviewer's id answers 404.
The browser never receives a case key, ecg_id, patient id, label, prediction or attribution: the
bundle holds none and the API serves the case only through the reviewer's work id.

Endpoints are plain ``def`` functions, so FastAPI runs them in its thread pool and SQLite writes
never block the event loop (concurrent autosaves stay fast).
"""

import hmac
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import plotly
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from cinexai.annotate.bundle import read_manifest
from cinexai.annotate.db import Conflict, NotFound, Session, Store
from cinexai.annotate.marks import check_state
from cinexai.evaluation.annotations import (
    MIN_WIDTH_QRS_MS,
    MIN_WIDTH_REST_MS,
    POINT_TOLERANCE_MS,
    QRS_REGION_MS,
)

SESSION_COOKIE = "cinexai_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


class LoginBody(BaseModel):
    token: str


class SaveBody(BaseModel):
    seq: int
    state: dict[str, Any]


def _static(name: str) -> Path:
    return Path(str(resources.files("cinexai.annotate") / "static" / name))


def _page(name: str) -> HTMLResponse:
    return HTMLResponse(_static(name).read_text(encoding="utf-8"))


def _origin_ok(request: Request) -> bool:
    """The request comes from a page of this server (Origin, else Referer, must match Host)."""
    host = request.headers.get("host", "")
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or not host:
        return False
    parts = urlsplit(source)
    return parts.scheme in ("http", "https") and parts.netloc == host


def create_app(bundle: str | os.PathLike[str], db: str | os.PathLike[str]) -> FastAPI:
    """The app serving ``bundle`` with its state in the SQLite file ``db``."""
    bundle = Path(bundle)
    manifest = read_manifest(bundle)
    window_ms = float(manifest["window_ms"])
    store = Store(db)
    app = FastAPI(title="cinexai annotation", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=_static("")), name="static")

    @lru_cache(maxsize=64)
    def case_body(key: str) -> bytes:
        return (bundle / "cases" / f"{key}.json").read_bytes()

    @app.middleware("http")
    async def guard(request: Request, call_next):
        """CSRF (token + origin) on state-changing requests; security headers on every answer."""
        if request.method not in SAFE_METHODS:
            if not _origin_ok(request):
                return JSONResponse({"detail": "cross-origin request refused"}, status_code=403)
            if request.url.path != "/api/login":
                sid = request.cookies.get(SESSION_COOKIE)
                session = await run_in_threadpool(store.session, sid)
                sent = request.headers.get("x-csrf-token", "")
                if session is None or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
                    return JSONResponse({"detail": "CSRF token missing or wrong"}, status_code=403)
                request.state.session = session  # checked once: the endpoint reuses it
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        return response

    def session(request: Request) -> Session:
        found = getattr(request.state, "session", None) or store.session(
            request.cookies.get(SESSION_COOKIE)
        )
        if found is None:
            raise HTTPException(401, "not logged in")
        return found

    def reviewer(s: Annotated[Session, Depends(session)]) -> Session:
        if s.role != "reviewer":
            raise HTTPException(403, "reviewers only")
        return s

    def admin(s: Annotated[Session, Depends(session)]) -> Session:
        if s.role != "admin":
            raise HTTPException(403, "admins only")
        return s

    AnySession = Annotated[Session, Depends(session)]
    Reviewer = Annotated[Session, Depends(reviewer)]
    Admin = Annotated[Session, Depends(admin)]

    @app.get("/", include_in_schema=False)
    def index(request: Request) -> Response:
        found = store.session(request.cookies.get(SESSION_COOKIE))
        if found is None:
            return _page("login.html")
        return RedirectResponse("/admin" if found.role == "admin" else "/review", status_code=303)

    @app.get("/login", include_in_schema=False)
    def login_page() -> HTMLResponse:
        return _page("login.html")

    @app.get("/review", include_in_schema=False)
    def review_page() -> HTMLResponse:
        return _page("review.html")

    @app.get("/admin", include_in_schema=False)
    def admin_page() -> HTMLResponse:
        return _page("admin.html")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="text/javascript")

    @app.post("/api/login")
    def login(body: LoginBody, request: Request) -> JSONResponse:
        try:
            sid, s = store.login(body.token)
        except NotFound as exc:
            raise HTTPException(401, "login link unknown, used or expired") from exc
        response = JSONResponse(
            {"role": s.role, "next": "/admin" if s.role == "admin" else "/review"}
        )
        response.set_cookie(
            SESSION_COOKIE,
            sid,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    @app.post("/api/logout")
    def logout(request: Request, s: AnySession) -> JSONResponse:
        store.logout(request.cookies.get(SESSION_COOKIE, ""), s.reviewer_id)
        response = JSONResponse({"ok": True})
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/api/me")
    def me(s: AnySession) -> dict[str, Any]:
        out: dict[str, Any] = {"name": s.name, "role": s.role, "csrf": s.csrf}
        if s.role == "reviewer":
            out["work"] = store.work_list(s.reviewer_id)
        return out

    @app.get("/api/protocol")
    def protocol() -> dict[str, Any]:
        return {
            "window_ms": window_ms,
            "qrs_region_ms": QRS_REGION_MS,
            "min_width_qrs_ms": MIN_WIDTH_QRS_MS,
            "min_width_rest_ms": MIN_WIDTH_REST_MS,
            "point_tolerance_ms": POINT_TOLERANCE_MS,
        }

    @app.get("/api/heart")
    def heart(s: Reviewer) -> FileResponse:
        return FileResponse(bundle / "heart.json", media_type="application/json")

    def _work(s: Session, work_id: str) -> dict[str, Any]:
        try:
            return store.work(s.reviewer_id, work_id)
        except NotFound as exc:
            raise HTTPException(404, "no such work item") from exc

    @app.get("/api/work/{work_id}/case")
    def case(work_id: str, s: Reviewer) -> Response:
        item = _work(s, work_id)
        return Response(case_body(item["case_key"]), media_type="application/json")

    @app.get("/api/work/{work_id}")
    def work(work_id: str, s: Reviewer) -> dict[str, Any]:
        item = _work(s, work_id)
        return {k: item[k] for k in ("position", "seq", "state", "submitted")}

    def _save(work_id: str, body: SaveBody, s: Session, submit: bool) -> JSONResponse:
        try:
            state = check_state(body.state, window_ms, final=submit)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        try:
            seq = store.save(s.reviewer_id, work_id, body.seq, state, submit=submit)
        except NotFound as exc:
            raise HTTPException(404, "no such work item") from exc
        except Conflict as exc:
            return JSONResponse({"detail": str(exc), "seq": exc.seq}, status_code=409)
        return JSONResponse({"seq": seq, "submitted": submit})

    @app.put("/api/work/{work_id}")
    def save(work_id: str, body: SaveBody, s: Reviewer) -> JSONResponse:
        return _save(work_id, body, s, submit=False)

    @app.post("/api/work/{work_id}/submit")
    def submit(work_id: str, body: SaveBody, s: Reviewer) -> JSONResponse:
        return _save(work_id, body, s, submit=True)

    @app.get("/api/progress")
    def progress(s: Admin) -> list[dict[str, Any]]:
        return store.progress()

    return app
