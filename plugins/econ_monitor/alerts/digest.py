"""Compose the mails leaders read: one digest per leader per run with that leader's new and worsened
warnings (red first), escalations of unclaimed red warnings (once per episode), reminders carrying fresh
claim/close links before the mailed ones expire, and the data team's mails. The words and numbers are
`econ_monitor.wording`'s.

Composing and marking warnings as notified happen in one transaction with queueing the mail in the
outbox, so a crash can neither lose a digest nor queue it twice. A mail's dedupe key names each warning's
episode and the event that made it due, so a re-run never queues the same mail twice while every new
worsening gets through.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from econ_monitor.alerts.links import action_url, page_url
from econ_monitor.alerts.outbox import Mail, enqueue
from econ_monitor.alerts.state import domain_patterns
from econ_monitor.reference import DATA_TEAM, leader
from econ_monitor.settings import Settings
from econ_monitor.templating import template_environment
from econ_monitor.wording import describe, level_label, rule_labels

_templates = template_environment(Path(__file__).parent / "templates")


@dataclass(frozen=True)
class DigestItem:
    alert_key: str
    level: str
    level_label: str
    rule_label: str
    entity_code: str
    entity_name: str
    period_label: str
    measure: str
    gap: str | None
    status: str
    claim_url: str | None
    close_url: str | None
    # reports.gaps: where the year will end (chains, cumulative and stock indicators), and a chain
    # warning's key enterprises that fell most
    projection: str | None = None
    drags: tuple[str, ...] = ()


def _items(
    cur: psycopg.Cursor, alerts: list[dict], settings: Settings, addressee: str, notes: tuple[dict, dict] = ({}, {})
) -> list[DigestItem]:
    labels = rule_labels(cur.connection)
    projections, drags = notes
    items = []
    for alert in sorted(alerts, key=lambda a: (a["level"] != "red", a["rule_code"], a["entity_code"])):
        measure, gap = describe(alert)
        links = addressee == alert["leader_code"]  # action_url refuses unusable link settings
        items.append(
            DigestItem(
                alert_key=alert["alert_key"],
                level=alert["level"],
                level_label=f"{level_label(alert['level'])}预警",
                rule_label=labels.get(alert["rule_code"], alert["rule_code"]),
                entity_code=alert["entity_code"],
                entity_name=alert["entity_name"] or alert["entity_code"],
                period_label=alert["period_label"] or "",
                measure=measure,
                gap=gap,
                status={"open": "待认领", "claimed": f"已由 {alert['claimed_by']} 认领", "closed": "已销号"}[
                    alert["status"]
                ],
                claim_url=action_url(
                    settings.link_base_url, settings.link_secret, "claim", alert["alert_key"], addressee
                )
                if links and alert["status"] == "open"
                else None,
                close_url=action_url(
                    settings.link_base_url, settings.link_secret, "close", alert["alert_key"], addressee
                )
                if links
                else None,
                projection=projections.get(alert["alert_key"]),
                drags=drags.get(alert["alert_key"], ()),
            )
        )
    return items


def _render(template: str, **context) -> tuple[str, str]:
    html = _templates.get_template(f"{template}.html").render(**context)
    text = _templates.get_template(f"{template}.txt").render(**context)
    return text, html


def _mail_key(prefix: str, alerts: list[dict], reason: str) -> str:
    """`prefix:hash` over each warning's key, episode and `reason` (the id of the event that made it due,
    or a timestamp): the same mail is queued once, a later change of the same warning is a new mail."""
    fingerprint = "|".join(sorted(f"{a['alert_key']}#{a['episode']}#{a[reason]}" for a in alerts))
    return f"{prefix}:{hashlib.sha256(fingerprint.encode()).hexdigest()[:32]}"


def _period(alerts: list[dict]) -> str:
    labels = sorted({a["period_label"] for a in alerts if a["period_label"]})
    return labels[-1] if labels else ""


def _by(alerts: list[dict], recipient_of) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for alert in alerts:
        recipient = recipient_of(alert)
        if recipient:
            groups.setdefault(recipient, []).append(alert)
    return groups


# Due: yellow/red, open or claimed, never mailed in this episode or red since it was mailed yellow (an
# improvement lowers last_notified_level, so improve-then-worsen is due again). due_event is the event
# that made it due, the digest's dedupe reason.
_DUE = """
SELECT a.*, (SELECT max(e.event_id) FROM monitor.alert_events AS e
             WHERE e.alert_key = a.alert_key AND e.event_type IN ('opened', 'reopened', 'worsened')) AS due_event
FROM monitor.alerts AS a
WHERE a.status <> 'closed' AND a.level IN ('yellow', 'red') AND NOT (a.domain LIKE ANY(%s))
  AND (a.last_notified_level IS NULL OR (a.level = 'red' AND a.last_notified_level = 'yellow'))
ORDER BY a.leader_code, a.alert_key
FOR UPDATE OF a
"""


def queue_digests(conn: psycopg.Connection, settings: Settings, withheld_domains: tuple[str, ...] = ()) -> list[int]:
    """One digest per leader with that leader's new and worsened warnings; returns the queued message ids."""
    digest = _Listing(
        "digest",
        "",
        "红色{reds}项 黄色{yellows}项",
        "本期新增及升级的预警",
        "due_event",
        "notified",
        """UPDATE monitor.alerts SET last_notified_at = now(), last_notified_level = level,
               episode_notified_at = coalesce(episode_notified_at, now()), links_sent_at = now()
           WHERE alert_key = %s""",
    )
    return _queue_listings(
        conn,
        settings,
        digest,
        (_DUE, (domain_patterns(withheld_domains),)),
        lambda a: a["leader_code"],
        lambda alerts: _gap_notes(conn, alerts, withheld_domains),
    )


def _gap_notes(conn: psycopg.Connection, alerts: list[dict], withheld_domains: tuple[str, ...]) -> tuple[dict, dict]:
    """Beside each gap: where the year will end, and for a chain warning the three key enterprises that fell
    most (name, change, growth, 包挂领导) -- none while the enterprise report is withheld by the gate."""
    from econ_monitor.reports.gaps import chain_drags, drag_line, warning_projections  # reports import this module

    projections = warning_projections(conn, [a["alert_key"] for a in alerts])
    if "enterprises" in withheld_domains:
        return projections, {}
    return projections, {
        a["alert_key"]: tuple(drag_line(row) for row in chain_drags(conn, a["entity_code"], a["year"]))
        for a in alerts
        if a["rule_code"] == "chain_output_behind"
    }


def queue_escalations(conn: psycopg.Connection, settings: Settings) -> list[int]:
    """A red warning nobody claimed within ECON_ESCALATION_DAYS of its episode's first mail goes to the
    leader above, once per episode (escalated_at starts afresh with each episode)."""
    days = settings.escalation_days
    escalation = _Listing(
        "escalation",
        "·督办",
        f"{{count}}项红色预警超过{days}天未认领",
        f"以下红色预警发出后超过 {days} 天无人认领，请督促责任领导认领",
        "episode_notified_at",
        "escalated",
        "UPDATE monitor.alerts SET escalated_at = now() WHERE alert_key = %s",
    )
    overdue = """SELECT * FROM monitor.alerts
                 WHERE status = 'open' AND level = 'red' AND escalated_at IS NULL
                   AND episode_notified_at <= now() - make_interval(days => %s)
                 ORDER BY leader_code, alert_key FOR UPDATE"""
    return _queue_listings(
        conn, settings, escalation, (overdue, (days,)), lambda a: leader(a["leader_code"]).escalates_to
    )


# Links expire after ECON_LINK_TTL_DAYS; a reminder goes out this many days before the mailed ones do.
LINK_RENEWAL_DAYS = 2


def queue_link_reminders(conn: psycopg.Connection, settings: Settings) -> list[int]:
    """A warning that stays open or claimed for weeks keeps working claim/close links: when the links last
    mailed to its leader expire within LINK_RENEWAL_DAYS, the leader gets one reminder per run listing
    those warnings with fresh links (so at most one per warning per TTL)."""
    if not settings.link_secret:
        return []
    reminder = _Listing(
        "reminder",
        "·链接更新",
        "{count}项预警仍在办理",
        "以下预警仍在办理中，此前邮件中的领任务、销号链接即将过期，请使用本邮件中的新链接",
        "links_sent_at",
        "links_renewed",
        "UPDATE monitor.alerts SET links_sent_at = now() WHERE alert_key = %s",
    )
    expiring = """SELECT * FROM monitor.alerts
                  WHERE status IN ('open', 'claimed') AND links_sent_at <= now() - make_interval(days => %s)
                  ORDER BY leader_code, alert_key FOR UPDATE"""
    renew_after = max(settings.link_ttl_days - LINK_RENEWAL_DAYS, 1)
    return _queue_listings(conn, settings, reminder, (expiring, (renew_after,)), lambda a: a["leader_code"])


@dataclass(frozen=True)
class _Listing:
    """What tells a digest, an escalation and a link reminder apart: all three list warnings alike."""

    kind: str  # the mail's kind and its dedupe key's prefix
    tag: str  # after 经济运行监测预警 in the subject
    summary: str  # the subject's count, formatted with count, reds and yellows
    heading: str
    reason: str  # the alert column naming what made the mail due (see _mail_key)
    event_type: str  # the alert event recorded per warning mailed
    mark_sql: str  # marks one warning (alert_key bound) as mailed


def _queue_listings(
    conn: psycopg.Connection,
    settings: Settings,
    listing: _Listing,
    query: tuple[str, tuple],
    recipient_of: Callable[[dict], str | None],
    notes: Callable[[list[dict]], tuple[dict, dict]] = lambda alerts: ({}, {}),
) -> list[int]:
    """The warnings `query` selects (and locks), one mail per recipient (red first, that recipient's links),
    each queued with its warnings marked and their events written in one transaction: a mail is either
    queued with its alerts marked, or neither. Returns the queued message ids."""
    queued = []
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        for to, alerts in _by(cur.execute(*query).fetchall(), recipient_of).items():
            recipient = leader(to)
            reds = sum(a["level"] == "red" for a in alerts)
            yellows = len(alerts) - reds
            period = _period(alerts)
            text, html = _render(
                "digest",
                recipient=recipient,
                period=period,
                reds=reds,
                yellows=yellows,
                items=_items(cur, alerts, settings, to, notes(alerts)),
                heading=listing.heading,
                page_url=page_url(settings.link_base_url, settings.link_secret, to),
            )
            summary = listing.summary.format(count=len(alerts), reds=reds, yellows=yellows)
            mail = Mail(
                listing.kind,
                _mail_key(f"{listing.kind}:{to}", alerts, listing.reason),
                to,
                f"【经济运行监测预警{listing.tag}】{period} {summary} — {recipient.title}",
                text,
                html,
                tuple(a["alert_key"] for a in alerts),
            )
            message_id = enqueue(cur, mail)
            if message_id is None:  # already queued by an earlier run
                continue
            for alert in alerts:
                cur.execute(listing.mark_sql, (alert["alert_key"],))
                cur.execute(
                    """INSERT INTO monitor.alert_events (alert_key, event_type, level, episode, details)
                       VALUES (%s, %s, %s, %s, jsonb_build_object('to', %s::text, 'message_id', %s::bigint))""",
                    (alert["alert_key"], listing.event_type, alert["level"], alert["episode"], to, message_id),
                )
            queued.append(message_id)
    return queued


def queue_data_team_mail(
    cur: psycopg.Cursor, dedupe_key: str, subject: str, heading: str, problems: list[dict]
) -> int | None:
    """Data problems go to the data team (DT0) only, never to leaders.

    Each problem is a dict with `what`, `where` and `detail` (all shown escaped).
    """
    recipient = leader(DATA_TEAM)
    text, html = _render("data_team", recipient=recipient, heading=heading, problems=problems)
    return enqueue(cur, Mail("data_team", dedupe_key, DATA_TEAM, subject, text, html))
