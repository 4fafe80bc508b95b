"""Claim (领任务) and close (销号) links over real HTTP: the right link works, any other is refused, the app
refuses to start with unusable link settings, and requests are rate-limited."""

from __future__ import annotations

import importlib.util
import threading
import time
from contextlib import contextmanager
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import uvicorn
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from econ_monitor import pipeline
from econ_monitor.alerts import links
from econ_monitor.alerts.links import sign
from econ_monitor.mailsink import free_port
from econ_monitor.settings import PROJECT_DIR, SettingsError, load_settings
from tests.support import rows

FOREIGN_TRADE = "indicator_off_target:foreign_trade:2025"  # red, addressed to L04 (分管商贸副市长)
VC_INSTITUTIONS = "indicator_off_target:vc_institutions:2025"  # red, addressed to L07


@contextmanager
def _served(app):
    """The app on a real uvicorn server on localhost; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def site(sample_warehouse):
    from econ_monitor.web import create_app

    _url, conn = sample_warehouse
    pipeline.raise_alerts()
    with _served(create_app()) as base:
        yield base, conn


def _token(action: str, alert_key: str, leader_code: str) -> str:
    return sign(load_settings().link_secret, action, alert_key, leader_code)


class _IssuedFifteenDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 15 * 86400


def _expired_token(action: str, alert_key: str, leader_code: str) -> str:
    """A token signed with the real secret 15 days ago (links live ECON_LINK_TTL_DAYS = 14 days)."""
    serializer = URLSafeTimedSerializer(load_settings().link_secret, salt=links._SALT, signer=_IssuedFifteenDaysAgo)
    return serializer.dumps({"act": action, "key": alert_key, "to": leader_code})


def test_opening_a_link_only_asks_for_confirmation(site):
    base, conn = site
    page = httpx.get(f"{base}/alerts/claim", params={"token": _token("claim", FOREIGN_TRADE, "L04")})
    assert page.status_code == 200 and "确认领任务" in page.text and "货物进出口总额" in page.text
    assert rows(conn, "SELECT status FROM monitor.alerts WHERE alert_key = %s", (FOREIGN_TRADE,)) == [("open",)]


def test_the_addressed_leader_claims_and_closes(site):
    base, conn = site
    claimed = httpx.post(f"{base}/alerts/claim", data={"token": _token("claim", FOREIGN_TRADE, "L04")})
    assert claimed.status_code == 200 and "已领任务" in claimed.text
    assert rows(conn, "SELECT status, claimed_by FROM monitor.alerts WHERE alert_key = %s", (FOREIGN_TRADE,)) == [
        ("claimed", "分管商贸副市长")
    ]
    closed = httpx.post(
        f"{base}/alerts/close", data={"token": _token("close", FOREIGN_TRADE, "L04"), "note": "<b>专班</b>"}
    )
    assert closed.status_code == 200 and "<b>" not in closed.text
    assert rows(conn, "SELECT status, close_note FROM monitor.alerts WHERE alert_key = %s", (FOREIGN_TRADE,)) == [
        ("closed", "<b>专班</b>")
    ]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("case", ["tampered", "other_warning", "other_leader", "other_action", "expired"])
def test_a_wrong_link_is_refused_with_a_clear_message(site, case, method):
    base, conn = site
    key = VC_INSTITUTIONS
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
        token = _expired_token("claim", key, "L07")
        expected = "已过期"
    if method == "GET":
        response = httpx.get(f"{base}/alerts/claim", params={"token": token})
    else:
        response = httpx.post(f"{base}/alerts/claim", data={"token": token})
    assert response.status_code == 403
    assert expected in response.text
    # A refused link shows nothing of any warning: not the one it names, not the one it was signed for.
    assert "新增落户创投风投机构" not in response.text and "数字经济核心产业增加值" not in response.text
    assert rows(conn, "SELECT status FROM monitor.alerts WHERE alert_key = %s", (key,)) == [("open",)]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("case", ["unknown_leader", "unknown_alert"])
def test_an_unknown_leader_or_warning_is_not_found(site, case, method):
    base, conn = site
    if case == "unknown_leader":
        token, expected = _token("claim", VC_INSTITUTIONS, "L99"), "L99"
    else:
        token, expected = _token("claim", "indicator_off_target:no_such_indicator:2025", "L07"), "no_such_indicator"
    if method == "GET":
        response = httpx.get(f"{base}/alerts/claim", params={"token": token})
    else:
        response = httpx.post(f"{base}/alerts/claim", data={"token": token})
    assert response.status_code == 404 and expected in response.text
    assert rows(conn, "SELECT status FROM monitor.alerts WHERE alert_key = %s", (VC_INSTITUTIONS,)) == [("open",)]


def test_requests_are_rate_limited_per_token_and_per_address(site, monkeypatch):
    from econ_monitor.web import create_app

    monkeypatch.setenv("ECON_LINK_RATE_PER_TOKEN", "3")
    monkeypatch.setenv("ECON_LINK_RATE_PER_ADDRESS", "5")
    with _served(create_app()) as base:
        token = _token("claim", VC_INSTITUTIONS, "L07")

        # uvicorn takes the client address from X-Forwarded-For when the request comes from a trusted proxy
        # (127.0.0.1 by default), as behind the deployment's reverse proxy.
        def get(token: str, address: str) -> httpx.Response:
            return httpx.get(f"{base}/alerts/claim", params={"token": token}, headers={"X-Forwarded-For": address})

        assert [get(token, "10.0.0.1").status_code for _ in range(3)] == [200, 200, 200]
        limited = get(token, "10.0.0.2")  # the same link from another address: still that link's 4th request
        assert limited.status_code == 429 and "请求过于频繁" in limited.text and limited.headers["Retry-After"] == "60"

        others = [_token("claim", VC_INSTITUTIONS, "L07") + "x" * n for n in range(1, 7)]  # other (invalid) tokens
        statuses = [get(other, "10.0.0.3").status_code for other in others]
        assert statuses == [403, 403, 403, 403, 403, 429]  # the address's 6th request in the window
        assert get(_token("claim", FOREIGN_TRADE, "L04"), "10.0.0.4").status_code == 200  # others are served
    assert rows(site[1], "SELECT status FROM monitor.alerts WHERE alert_key = %s", (VC_INSTITUTIONS,)) == [("open",)]


UNUSABLE_LINK_SETTINGS = {
    "missing secret": ("", "http://localhost:8080/econ-monitor", "ECON_LINK_SECRET is not set"),
    "short secret": ("Xk3-9aQz", "http://localhost:8080/econ-monitor", "shorter than 32 bytes"),
    "the old test secret": (
        "test-secret-not-for-production",
        "http://localhost:8080/econ-monitor",
        "shorter than 32 bytes",
    ),
    ".env.example's placeholder": (
        "change-me-to-a-long-random-string",
        "http://localhost:8080/econ-monitor",
        "placeholder",
    ),
    "repeated character": ("a" * 40, "http://localhost:8080/econ-monitor", "placeholder"),
    "relative base URL": (None, "/econ-monitor", "ECON_LINK_BASE_URL"),
    "base URL without scheme": (None, "airflow.jiaozhou.gov.cn/econ-monitor", "ECON_LINK_BASE_URL"),
}


@pytest.mark.parametrize("case", UNUSABLE_LINK_SETTINGS)
def test_the_app_refuses_to_start_with_unusable_link_settings(case, monkeypatch):
    from econ_monitor.web import create_app

    secret, base_url, message = UNUSABLE_LINK_SETTINGS[case]
    monkeypatch.setenv("ECON_WAREHOUSE_URL", "postgresql://warehouse.invalid/econ")  # no generated local secret
    if secret is not None:
        monkeypatch.setenv("ECON_LINK_SECRET", secret)
    monkeypatch.setenv("ECON_LINK_BASE_URL", base_url)
    with pytest.raises(SettingsError, match=message):
        create_app()
    with pytest.raises(SettingsError, match=message):  # Airflow records it as the plugin's import error
        _airflow_plugin().on_load()


def _airflow_plugin():
    """The Airflow plugin as Airflow's plugins folder loads it (a module file, not part of the package)."""
    spec = importlib.util.spec_from_file_location(
        "econ_monitor_plugin", PROJECT_DIR / "plugins" / "econ_monitor_plugin.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EconMonitorPlugin()


def test_the_airflow_plugin_mounts_the_app_at_econ_monitor():
    (mounted,) = _airflow_plugin().fastapi_apps
    assert mounted["url_prefix"] == "/econ-monitor"
    assert {route.path for route in mounted["app"].routes} >= {"/alerts/{action}"}


@pytest.mark.parametrize("case", UNUSABLE_LINK_SETTINGS)
def test_no_link_is_made_with_unusable_link_settings(case):
    secret, base_url, message = UNUSABLE_LINK_SETTINGS[case]
    with pytest.raises(SettingsError, match=message):
        links.action_url(
            base_url, secret if secret is not None else load_settings().link_secret, "claim", VC_INSTITUTIONS, "L07"
        )


def test_the_embedded_set_up_generates_a_usable_secret(tmp_path, monkeypatch):
    from econ_monitor.web import create_app

    monkeypatch.delenv("ECON_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("ECON_LINK_SECRET", raising=False)
    monkeypatch.setenv("ECON_LOCAL_DIR", str(tmp_path))
    assert create_app().state.settings.link_secret == (tmp_path / "link-secret").read_text().strip()
    assert (tmp_path / "link-secret").stat().st_mode & 0o077 == 0


def test_digest_links_carry_tokens_for_the_addressed_leader(site, mailbox):
    pipeline.deliver_mail()
    (mail,) = [m for m in mailbox.messages if m["To"] == "finance-vice-mayor@jiaozhou.example"]
    html = mail.get_body(("html",)).get_content()
    link = next(part.split('"')[0] for part in html.split('href="')[1:] if "/alerts/claim" in part)
    token = parse_qs(urlparse(link.replace("&amp;", "&")).query)["token"][0]
    from econ_monitor.alerts.links import verify

    action = verify(load_settings().link_secret, token, 3600)
    assert action.leader_code == "L07" and action.action == "claim"


def test_the_env_file_with_the_secrets_is_neither_committed_nor_copied_into_images():
    for ignore_file in (".gitignore", ".dockerignore"):
        patterns = (PROJECT_DIR / ignore_file).read_text(encoding="utf-8").split()
        assert ".env" in patterns, ignore_file
