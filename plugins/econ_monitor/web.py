"""Claim (领任务) and close (销号) from the mail: a small FastAPI app, mounted in Airflow's API server by
the `econ_monitor_plugin` Airflow plugin (or run on its own with uvicorn).

Opening a link (GET) only shows what it would do; the action happens on the page's button (POST), so a
mail scanner that prefetches links claims nothing. Every request re-checks the signed token: a link
for one warning cannot act on another, a changed or expired link is refused, and only the leader the
mail was addressed to can act with it.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI, Form, Query
from fastapi.responses import HTMLResponse

from econ_monitor.alerts import state
from econ_monitor.alerts.links import LinkRefused, verify
from econ_monitor.reference import leader
from econ_monitor.settings import load_settings
from econ_monitor.warehouse import connect

ACTION_NAMES = {"claim": "领任务", "close": "销号"}

app = FastAPI(title="econ-monitor alert actions", docs_url=None, redoc_url=None)


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body style='font-family:sans-serif;max-width:640px;margin:2em auto'>"
        f"<h2>{escape(title)}</h2>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status_code)


def _checked(action: str, token: str):
    settings = load_settings()
    request = verify(settings.link_secret or "", token, settings.link_ttl_days * 86400)
    if request.action != action:
        raise LinkRefused("链接与操作不符 (this link is for another action)")
    return request


@app.get("/alerts/{action}")
def confirm(action: str, token: str = Query(...)) -> HTMLResponse:
    if action not in ACTION_NAMES:
        return _page("无此操作", "<p>unknown action</p>", 404)
    try:
        request = _checked(action, token)
        with connect() as conn:
            alert = conn.execute(
                "SELECT entity_name, level, status, period_label FROM monitor.alerts WHERE alert_key = %s",
                (request.alert_key,),
            ).fetchone()
    except LinkRefused as exc:
        return _page("链接无法使用", f"<p>{escape(str(exc))}</p>", 403)
    if alert is None:
        return _page("没有这条预警", f"<p>{escape(request.alert_key)}</p>", 404)
    name, level, status, period = alert
    body = (
        f"<p>{escape(leader(request.leader_code).title)}：确认对以下预警{ACTION_NAMES[action]}？</p>"
        f"<p><strong>{escape(name or '')}</strong>（{escape(period or '')}，{'红色' if level == 'red' else '黄色'}预警，当前状态：{escape(status)}）</p>"
        f"<form method='post'><input type='hidden' name='token' value='{escape(token, quote=True)}'>"
        + ("<p><label>办理情况（可选）<br><textarea name='note' rows='3' cols='50'></textarea></label></p>" if action == "close" else "")
        + f"<button type='submit'>确认{ACTION_NAMES[action]}</button></form>"
    )
    return _page(ACTION_NAMES[action], body)


@app.post("/alerts/{action}")
def act(action: str, token: str = Form(...), note: str | None = Form(None)) -> HTMLResponse:
    if action not in ACTION_NAMES:
        return _page("无此操作", "<p>unknown action</p>", 404)
    try:
        request = _checked(action, token)
        actor = leader(request.leader_code).title
        with connect() as conn:
            if action == "claim":
                alert = state.claim(conn, request.alert_key, request.leader_code, actor=actor)
            else:
                alert = state.close(conn, request.alert_key, request.leader_code, actor=actor, note=note or None)
    except LinkRefused as exc:
        return _page("链接无法使用", f"<p>{escape(str(exc))}</p>", 403)
    except state.AlertActionError as exc:
        return _page("无法办理", f"<p>{escape(str(exc))}</p>", 409)
    return _page(
        f"已{ACTION_NAMES[action]}",
        f"<p>{escape(alert['entity_name'] or '')}：状态为 {escape(alert['status'])}"
        f"（{escape(str(alert['claimed_by'] or ''))}）。</p>",
    )
