"""A leader's notes on warnings -- 措施 with a claim, 反馈 while it is worked on, 销号 when it is closed --
read from `monitor.alert_events` in one query, so the leader's page and the weekly dispatch show the same
words, times and authors. Only the warning's current episode counts: a warning that reopened starts a new
task, and the notes of the old one stay in its history (`econ-monitor alerts show KEY`).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from econ_monitor.wording import NOTE_LABELS


@dataclass(frozen=True)
class Note:
    alert_key: str
    label: str  # 措施 / 反馈 / 销号
    when: str  # Jiaozhou time, to the minute (as the reports' dates)
    actor: str
    text: str


_NOTES = """
SELECT alert_key, event_type, to_char(occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), actor, note
FROM (
    SELECT e.alert_key, e.event_type, e.occurred_at, e.actor, e.note, e.event_id,
           row_number() OVER (PARTITION BY e.alert_key ORDER BY e.occurred_at DESC, e.event_id DESC) AS recency
    FROM monitor.alert_events AS e
    JOIN monitor.alerts AS a ON a.alert_key = e.alert_key AND a.episode = e.episode
    WHERE e.alert_key = ANY(%(keys)s) AND e.event_type = ANY(%(types)s) AND e.note IS NOT NULL AND e.note <> ''
) AS n
WHERE %(latest)s::int IS NULL OR recency <= %(latest)s
ORDER BY alert_key, occurred_at, event_id
"""


def notes(conn: psycopg.Connection, alert_keys: list[str], latest: int | None = None) -> dict[str, list[Note]]:
    """alert_key → its notes of the current episode, oldest first (only the `latest` few if given)."""
    if not alert_keys:
        return {}
    found: dict[str, list[Note]] = {}
    for key, event_type, when, actor, text in conn.execute(
        _NOTES, {"keys": list(alert_keys), "types": list(NOTE_LABELS), "latest": latest}
    ).fetchall():
        found.setdefault(key, []).append(Note(key, NOTE_LABELS[event_type], when, actor or "", text))
    return found
