"""Reports for the leadership group (2025 work plan: 倒排工期、挂图作战，实施“周调度、月通报”).

- `monthly_bulletin(conn, year, month)` — 月通报: every catalogue indicator against its target and time
  progress, industry chains, new signings and starts per 产业类别, the ten slowest projects, overdue issues
  per responsible unit, and what changed since last month (new reds, recoveries, warnings closed).
- `weekly_dispatch(conn, as_of)` — 周调度: project movements since the previous ledger, open and claimed
  warnings (who claimed them, for how long), overdue issues, stale projects, and warnings that closed
  themselves because their data recovered.
- `publish_report(conn, report, settings)` — archive the HTML and PDF and queue one mail per leader (once per
  period).
- `publish_monthly_bulletin()` / `publish_weekly_dispatch()` — what the report DAGs call.

Reports are HTML (charts embedded as base64 PNG at 200 dpi) plus a plain-text version, and an A4 PDF for
printing and filing (WeasyPrint, see `render.pdf`), archived beside the HTML and attached to the mail.
"""

from __future__ import annotations

import logging

from econ_monitor.reports.model import Report
from econ_monitor.reports.monthly import monthly_bulletin
from econ_monitor.reports.publish import leadership_group, publish_report
from econ_monitor.reports.weekly import weekly_dispatch

__all__ = [
    "Report",
    "leadership_group",
    "monthly_bulletin",
    "publish_monthly_bulletin",
    "publish_report",
    "publish_weekly_dispatch",
    "weekly_dispatch",
]

log = logging.getLogger(__name__)


def _build_and_publish(build) -> dict:
    from econ_monitor.alerts.outbox import deliver_pending
    from econ_monitor.settings import load_settings
    from econ_monitor.warehouse import connect

    settings = load_settings()
    with connect() as conn:
        report = build(conn)
        path, queued = publish_report(conn, report, settings)
        summary = {
            "kind": report.kind,
            "period": report.period,
            "title": report.title,
            "path": str(path),
            "mails_queued": len(queued),
        }
        if settings.smtp_host:
            delivery = deliver_pending(conn, settings)
            summary.update(mails_sent=delivery.sent, mails_failed=delivery.failed, mails_pending=delivery.pending)
    log.info("%s %s: %s, %d mails queued", report.kind, report.period, path, len(queued))
    return summary


def publish_monthly_bulletin() -> dict:
    """Build the newest month's bulletin, archive it, mail the leadership group (once per month)."""
    return _build_and_publish(monthly_bulletin)


def publish_weekly_dispatch() -> dict:
    """Build the newest ledger's dispatch, archive it, mail the leadership group (once per ledger)."""
    return _build_and_publish(weekly_dispatch)
