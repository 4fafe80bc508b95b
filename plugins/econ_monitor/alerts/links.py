"""Signed, expiring links that let a leader claim (领任务) or close (销号) one warning from the mail.

A token binds the action, the alert key and the addressed leader, signed with ECON_LINK_SECRET
(itsdangerous, HMAC-SHA1 key derivation + HMAC signature). Changing any part breaks the signature;
an old token expires after ECON_LINK_TTL_DAYS. No link is made with a missing, short or placeholder
secret or a relative base URL (`check_link_settings` raises SettingsError), so a digest is never built
with links that do not work or can be forged.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from econ_monitor.settings import check_link_settings

ACTIONS = ("claim", "close", "page")  # page: the leader's own page (leader_page.py), alert_key ""
_SALT = "econ-monitor/alert-action/v1"


class LinkRefused(Exception):
    """A link that must not act; the message is shown to the person who clicked it."""


@dataclass(frozen=True)
class AlertAction:
    action: str
    alert_key: str
    leader_code: str


def _serializer(secret: str) -> URLSafeTimedSerializer:
    if not secret:
        raise LinkRefused("链接签名密钥未配置 (ECON_LINK_SECRET is not set)")
    return URLSafeTimedSerializer(secret, salt=_SALT)


def sign(secret: str, action: str, alert_key: str, leader_code: str) -> str:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return _serializer(secret).dumps({"act": action, "key": alert_key, "to": leader_code})


def verify(secret: str, token: str, max_age_seconds: int) -> AlertAction:
    try:
        payload = _serializer(secret).loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise LinkRefused("链接已过期，请在最新的预警邮件中操作 (this link has expired)") from exc
    except BadSignature as exc:
        raise LinkRefused("链接无效或已被修改 (this link is not valid)") from exc
    return AlertAction(payload["act"], payload["key"], payload["to"])


def action_url(base_url: str, secret: str | None, action: str, alert_key: str, leader_code: str) -> str:
    check_link_settings(secret, base_url)
    return (
        f"{base_url.rstrip('/')}/alerts/{action}?{urlencode({'token': sign(secret, action, alert_key, leader_code)})}"
    )


def page_url(base_url: str, secret: str | None, leader_code: str) -> str:
    """The leader's own page (all their open warnings), signed like the action links and expiring with them."""
    check_link_settings(secret, base_url)
    return f"{base_url.rstrip('/')}/leader/page?{urlencode({'token': sign(secret, 'page', '', leader_code)})}"
