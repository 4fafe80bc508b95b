"""The leader's own page (领导个人页): every open or claimed warning of one leader, red first, with the
digest's words and numbers (`wording.describe`), who claimed it and when, and its notes (措施, 反馈, 销号)
-- and forms to claim (领任务, with an optional 措施 note), give feedback (反馈) and close (销号, with a
note), the work plan's 派单—响应—对接—反馈 loop and 问题台账销号制度 from a phone.

Every digest links here with a token of action `page` bound to the leader (`links.page_url`), signed and
expiring like the claim/close links: the link is the credential. GET only shows; each POST re-checks the
token and acts only on a warning addressed to the leader it names, then redirects back to the page
(so reloading does not post a feedback twice). The routes are included in `web.create_app`, so its rate
limiter (the same per-token and per-address windows) and error handling apply.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from psycopg.rows import dict_row

from econ_monitor.alerts import state
from econ_monitor.alerts.notes import notes
from econ_monitor.reference import Leader
from econ_monitor.settings import Settings
from econ_monitor.templating import template_environment
from econ_monitor.warehouse import connect
from econ_monitor.web import _page, _refusal, _Refused, verified_link
from econ_monitor.wording import describe, level_label, rule_labels

router = APIRouter()
_templates = template_environment(Path(__file__).parent / "alerts" / "templates")

ACTIONS = {"claim": ("领任务", state.claim), "feedback": ("反馈", state.feedback), "close": ("销号", state.close)}
# The page carries its token: no caching, and no Referer naming it to another site.
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

_OPEN_WARNINGS = """
SELECT *, to_char(claimed_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS claimed_when
FROM monitor.alerts
WHERE leader_code = %s AND status IN ('open', 'claimed')
ORDER BY level <> 'red', rule_code, entity_code
"""


def _leader(request: Request, token: str) -> Leader:
    """The leader a valid, unexpired `page` token names, within the app's rate limits; _Refused otherwise."""
    return verified_link(request, "page", token)[1]


@router.get("/leader/page")
def page(request: Request, token: str = Query(...), done: str | None = Query(None)) -> Response:
    settings: Settings = request.app.state.settings
    try:
        addressee = _leader(request, token)
    except _Refused as refused:
        return _refusal(refused, settings)
    with connect(settings.warehouse_url) as conn:
        with conn.cursor(row_factory=dict_row) as cur:
            alerts = cur.execute(_OPEN_WARNINGS, (addressee.code,)).fetchall()
        labels = rule_labels(conn)
        history = notes(conn, [a["alert_key"] for a in alerts])
    items = []
    for alert in alerts:
        measure, gap = describe(alert)
        items.append(
            {
                "alert": alert,
                "measure": measure,
                "gap": gap,
                "level_label": f"{level_label(alert['level'])}预警",
                "rule_label": labels.get(alert["rule_code"], alert["rule_code"]),
                "notes": history.get(alert["alert_key"], []),
            }
        )
    html = _templates.get_template("leader_page.html").render(
        leader=addressee,
        token=token,
        items=items,
        reds=sum(a["level"] == "red" for a in alerts),
        yellows=sum(a["level"] == "yellow" for a in alerts),
        done=ACTIONS[done][0] if done in ACTIONS else None,
    )
    return HTMLResponse(html, headers=_PRIVATE)


@router.post("/leader/{action}")
def act(
    request: Request, action: str, token: str = Form(...), alert_key: str = Form(...), note: str | None = Form(None)
) -> Response:
    settings: Settings = request.app.state.settings
    if action not in ACTIONS:
        return _refusal(_Refused(404, "无此操作", f"unknown action {action!r}"), settings)
    try:
        addressee = _leader(request, token)
    except _Refused as refused:
        return _refusal(refused, settings)
    name, do = ACTIONS[action]
    note = (note or "").strip() or None
    back = f"<p><a href='page?{escape(urlencode({'token': token}), quote=True)}'>返回我的预警</a></p>"
    with connect(settings.warehouse_url) as conn:
        owner = conn.execute("SELECT leader_code FROM monitor.alerts WHERE alert_key = %s", (alert_key,)).fetchone()
        if owner is None:
            return _page("没有这条预警", f"<p>没有这条预警 (no warning {escape(alert_key)})</p>{back}", 404, _PRIVATE)
        if owner[0] != addressee.code:
            return _page(
                "链接无法使用", "<p>这条预警不属于您 (this warning is addressed to another leader)</p>", 403, _PRIVATE
            )
        try:
            do(
                conn,
                alert_key,
                addressee.code,
                actor=addressee.title,
                note=(note or "") if action == "feedback" else note,
            )
        except state.AlertActionError as exc:  # e.g. feedback before claiming, claiming a closed warning
            return _page(f"无法{name}", f"<p>{escape(str(exc))}</p>{back}", 409, _PRIVATE)
    # Back to the page (relative, so it works under Airflow's /econ-monitor prefix); 303 makes it a GET.
    return RedirectResponse(f"page?{urlencode({'token': token, 'done': action})}", status_code=303, headers=_PRIVATE)
