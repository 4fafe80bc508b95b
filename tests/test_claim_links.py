"""Claim (领任务) and close (销号) links over real HTTP: the right link works, any other is refused."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import uvicorn

from econ_monitor import pipeline
from econ_monitor.alerts.links import sign
from econ_monitor.mailsink import free_port
from econ_monitor.settings import load_settings
from tests.support import rows

FOREIGN_TRADE = "indicator_off_target:foreign_trade:2025"  # red, addressed to L04 (分管商贸副市长)


@pytest.fixture(scope="module")
def site(sample_warehouse):
    from econ_monitor.web import app

    url, conn = sample_warehouse
    pipeline.raise_alerts()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", conn
    server.should_exit = True
    thread.join(timeout=10)


def _token(action: str, alert_key: str, leader_code: str) -> str:
    return sign(load_settings().link_secret, action, alert_key, leader_code)


def test_opening_a_link_only_asks_for_confirmation(site):
    base, conn = site
    page = httpx.get(f"{base}/alerts/claim", params={"token": _token("claim", FOREIGN_TRADE, "L04")})
    assert page.status_code == 200 and "确认领任务" in page.text and "货物进出口总额" in page.text
    assert rows(conn, "SELECT status FROM monitor.alerts WHERE alert_key = %s", (FOREIGN_TRADE,)) == [("open",)]


def test_the_addressed_leader_claims_and_closes(site):
    base, conn = site
    claimed = httpx.post(f"{base}/alerts/claim", data={"token": _token("claim", FOREIGN_TRADE, "L04")})
    assert claimed.status_code == 200 and "已领任务" in claimed.text
    assert rows(conn, "SELECT status, claimed_by FROM monitor.alerts WHERE alert_key = %s", (FOREIGN_TRADE,)) == [("claimed", "分管商贸副市长")]
    closed = httpx.post(f"{base}/alerts/close", data={"token": _token("close", FOREIGN_TRADE, "L04"), "note": "<b>专班</b>"})
    assert closed.status_code == 200 and "<b>" not in closed.text
    assert rows(conn, "SELECT status, close_note FROM monitor.alerts WHERE alert_key = %s", (FOREIGN_TRADE,)) == [("closed", "<b>专班</b>")]


@pytest.mark.parametrize("case", ["tampered", "other_warning", "other_leader", "other_action", "expired"])
def test_a_wrong_link_is_refused_with_a_clear_message(site, case, monkeypatch):
    base, conn = site
    key = "indicator_off_target:vc_institutions:2025"  # red, addressed to L07
    token = _token("claim", key, "L07")
    if case == "tampered":
        token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        expected = "链接无效"
    elif case == "other_warning":
        token = _token("claim", "indicator_off_target:digital_core_va:2025", "L07")  # signed for L07, not L05's warning
        expected = "不属于您"
    elif case == "other_leader":
        token = _token("claim", key, "L03")
        expected = "不属于您"
    elif case == "other_action":
        token = _token("close", key, "L07")
        expected = "this link is for another action"
    else:
        monkeypatch.setenv("ECON_LINK_TTL_DAYS", "0")
        time.sleep(1.1)
        expected = "已过期"
    response = httpx.post(f"{base}/alerts/claim", data={"token": token})
    assert response.status_code in (403, 409)
    assert expected in response.text
    assert rows(conn, "SELECT status FROM monitor.alerts WHERE alert_key = %s", (key,)) == [("open",)]


def test_digest_links_carry_tokens_for_the_addressed_leader(site, mailbox):
    pipeline.deliver_mail()
    (mail,) = [m for m in mailbox.messages if m["To"] == "finance-vice-mayor@jiaozhou.example"]
    html = mail.get_body(("html",)).get_content()
    link = next(part.split('"')[0] for part in html.split('href="')[1:] if "/alerts/claim" in part)
    token = parse_qs(urlparse(link.replace("&amp;", "&")).query)["token"][0]
    from econ_monitor.alerts.links import verify

    action = verify(load_settings().link_secret, token, 3600)
    assert action.leader_code == "L07" and action.action == "claim"
