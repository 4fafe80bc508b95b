"""Claim (领任务) and close (销号) from the mail: a small FastAPI app, mounted in Airflow's API server by
the `econ_monitor_plugin` Airflow plugin, or run on its own:
`uvicorn --factory econ_monitor.web:create_app`.

Opening a link (GET) only shows what it would do; the action happens on the page's button (POST), so a
mail scanner that prefetches links claims nothing. Every request re-checks the signed token: a link
for one warning cannot act on another, a changed or expired link is refused, and a warning is shown to,
and acted on by, only the leader the link was addressed to.

`create_app` refuses to build the app (SettingsError) with a missing, short or placeholder
ECON_LINK_SECRET or a relative ECON_LINK_BASE_URL, so a misconfigured deployment fails at start-up, not
at a leader's click. Requests are rate-limited per token and per client address with a sliding window kept
in this process (each API-server worker counts on its own, so the effective limit is the setting times
the number of workers); behind a reverse proxy, the client address is the one the server trusts from
X-Forwarded-For (uvicorn's `--forwarded-allow-ips`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from html import escape

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse

from econ_monitor.alerts import state
from econ_monitor.alerts.links import AlertAction, LinkRefused, verify
from econ_monitor.reference import Leader, leaders
from econ_monitor.settings import Settings, load_settings
from econ_monitor.warehouse import connect

ACTION_NAMES = {"claim": "领任务", "close": "销号"}

router = APIRouter()


class SlidingWindow:
    """At most `limit` requests per `window_seconds` per key, counted in this process."""

    MAX_KEYS = 10_000  # beyond this, keys with no request in the window are forgotten

    def __init__(self, limit: int, window_seconds: int):
        self.limit, self.window = limit, window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > self.MAX_KEYS:
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self.window}
            return True


class _Refused(Exception):
    """A request answered with a page and a status instead of the action."""

    def __init__(self, status_code: int, title: str, message: str):
        super().__init__(message)
        self.status_code, self.title, self.message = status_code, title, message


def create_app(settings: Settings | None = None) -> FastAPI:
    """The claim/close app with its settings checked once, here (SettingsError when they are unusable)."""
    settings = settings or load_settings()
    settings.check_links()
    app = FastAPI(title="econ-monitor alert actions", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.per_token = SlidingWindow(settings.link_rate_per_token, settings.link_rate_window_seconds)
    app.state.per_address = SlidingWindow(settings.link_rate_per_address, settings.link_rate_window_seconds)
    app.include_router(router)
    # the leader's own page (imported here: it uses this module's pages and the limiters above)
    from econ_monitor.leader_page import router as leader_page

    app.include_router(leader_page)
    return app


def _page(title: str, body: str, status_code: int = 200, headers: dict | None = None) -> HTMLResponse:
    html = (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body style='font-family:sans-serif;max-width:640px;margin:2em auto'>"
        f"<h2>{escape(title)}</h2>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers=headers)


def _refusal(refused: _Refused, settings: Settings) -> HTMLResponse:
    headers = {"Retry-After": str(settings.link_rate_window_seconds)} if refused.status_code == 429 else None
    return _page(refused.title, f"<p>{escape(refused.message)}</p>", refused.status_code, headers)


def verified_link(request: Request, action: str, token: str) -> tuple[AlertAction, Leader]:
    """The link a token carries and the leader it names, if the request is within the rate limits (per
    client address and per token) and the token is genuine, unexpired and made for `action`; _Refused
    otherwise. Every route that takes a token goes through here."""
    app_state = request.app.state
    settings: Settings = app_state.settings
    address = request.client.host if request.client else "unknown"
    if not app_state.per_address.allow(address) or not app_state.per_token.allow(
        hashlib.sha256(token.encode()).hexdigest()
    ):
        raise _Refused(429, "请求过于频繁", "请求过于频繁，请稍后再试 (too many requests, try again in a minute)")
    try:
        link = verify(settings.link_secret or "", token, settings.link_ttl_days * 86400)
    except LinkRefused as exc:
        raise _Refused(403, "链接无法使用", str(exc)) from exc
    if link.action != action:
        raise _Refused(403, "链接无法使用", "链接与操作不符 (this link is for another action)")
    addressee = leaders().get(link.leader_code)
    if addressee is None:
        raise _Refused(404, "没有这位领导", f"链接所指的领导 {link.leader_code} 不在名单中 (unknown leader)")
    return link, addressee


def _checked(request: Request, action: str, token: str) -> tuple[AlertAction, Leader, tuple]:
    """The verified link, its leader and its warning (name, level, status, period); _Refused otherwise."""
    if action not in ACTION_NAMES:
        raise _Refused(404, "无此操作", f"unknown action {action!r}")
    settings: Settings = request.app.state.settings
    link, addressee = verified_link(request, action, token)
    with connect(settings.warehouse_url) as conn:
        alert = conn.execute(
            "SELECT leader_code, entity_name, level, status, period_label FROM monitor.alerts WHERE alert_key = %s",
            (link.alert_key,),
        ).fetchone()
    if alert is None:
        raise _Refused(404, "没有这条预警", f"没有这条预警 (no warning {link.alert_key})")
    if alert[0] != link.leader_code:
        raise _Refused(403, "链接无法使用", "这条预警不属于您 (this warning is addressed to another leader)")
    return link, addressee, alert[1:]


@router.get("/alerts/{action}")
def confirm(request: Request, action: str, token: str = Query(...)) -> HTMLResponse:
    try:
        _, addressee, (name, level, status, period) = _checked(request, action, token)
    except _Refused as refused:
        return _refusal(refused, request.app.state.settings)
    body = (
        f"<p>{escape(addressee.title)}：确认对以下预警{ACTION_NAMES[action]}？</p>"
        f"<p><strong>{escape(name or '')}</strong>（{escape(period or '')}，{'红色' if level == 'red' else '黄色'}预警，当前状态：{escape(status)}）</p>"
        f"<form method='post'><input type='hidden' name='token' value='{escape(token, quote=True)}'>"
        + (
            "<p><label>办理情况（可选）<br><textarea name='note' rows='3' cols='50'></textarea></label></p>"
            if action == "close"
            else ""
        )
        + f"<button type='submit'>确认{ACTION_NAMES[action]}</button></form>"
    )
    return _page(ACTION_NAMES[action], body)


@router.post("/alerts/{action}")
def act(request: Request, action: str, token: str = Form(...), note: str | None = Form(None)) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    try:
        link, addressee, _ = _checked(request, action, token)
        with connect(settings.warehouse_url) as conn:
            if action == "claim":
                alert = state.claim(conn, link.alert_key, link.leader_code, actor=addressee.title)
            else:
                alert = state.close(conn, link.alert_key, link.leader_code, actor=addressee.title, note=note or None)
    except _Refused as refused:
        return _refusal(refused, settings)
    except state.AlertActionError as exc:
        return _page("无法办理", f"<p>{escape(str(exc))}</p>", 409)
    return _page(
        f"已{ACTION_NAMES[action]}",
        f"<p>{escape(alert['entity_name'] or '')}：状态为 {escape(alert['status'])}"
        f"（{escape(str(alert['claimed_by'] or ''))}）。</p>",
    )
