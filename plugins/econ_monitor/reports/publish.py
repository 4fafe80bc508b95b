"""Publishing a report: archive its HTML and its PDF under <local_dir>/reports/<kind>/<period>.html/.pdf
and queue one mail per member of the leadership group (every leader with role 'leader', and the dispatch
centre D00), the PDF attached, in one transaction. The mails' dedupe keys name the kind, period and leader,
so publishing the same period again rewrites the archive but mails nobody twice."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
from markupsafe import escape

from econ_monitor.alerts.outbox import Attachment, Mail, enqueue
from econ_monitor.reference import DISPATCH_CENTRE, leader, leaders
from econ_monitor.reports.model import Report
from econ_monitor.reports.render import pdf
from econ_monitor.settings import Settings

RECIPIENT_MARKER = "<!--recipient-->"


def leadership_group() -> list[str]:
    codes = [code for code, person in leaders().items() if person.role == "leader"]
    return codes + [DISPATCH_CENTRE] if DISPATCH_CENTRE not in codes else codes


def archive_path(settings: Settings, report: Report) -> Path:
    return settings.local_dir / "reports" / report.kind / f"{report.period}.html"


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(content)
    partial.replace(path)  # readers see the old or the new bulletin, never half of one


def archive(settings: Settings, report: Report, printable: bytes) -> Path:
    """Write the HTML, and the PDF beside it; the HTML's path."""
    path = archive_path(settings, report)
    _write(path, report.html.encode("utf-8"))
    _write(path.with_suffix(".pdf"), printable)
    return path


def _personal(report: Report, code: str) -> tuple[str, str, str]:
    recipient = leader(code)
    subject = f"{report.title} — {recipient.title}"
    text = f"{recipient.title}：\n\n{report.text}"
    html = report.html.replace(RECIPIENT_MARKER, f'<p style="font-size:15px;">{escape(recipient.title)}：</p>', 1)
    return subject, text, html


def queue_mails(conn: psycopg.Connection, report: Report, printable: bytes) -> list[int]:
    """One mail per member of the leadership group, the PDF attached; the ids of the mails queued now
    (none on a re-run)."""
    attachment = Attachment(f"{report.title}.pdf", "application/pdf", printable)
    queued = []
    with conn.transaction(), conn.cursor() as cur:
        for code in leadership_group():
            subject, text, html = _personal(report, code)
            message_id = enqueue(
                cur,
                Mail(
                    kind=report.kind,
                    dedupe_key=f"{report.kind}:{report.period}:{code}",
                    recipient_code=code,
                    subject=subject,
                    body_text=text,
                    body_html=html,
                    attachments=(attachment,),
                ),
            )
            if message_id is not None:
                queued.append(message_id)
    return queued


def publish_report(conn: psycopg.Connection, report: Report, settings: Settings) -> tuple[Path, list[int]]:
    """Archive the report (HTML and PDF) and queue its mails: the archived HTML's path and the mails queued."""
    printable = pdf(report.html)
    path = archive(settings, report, printable)
    return path, queue_mails(conn, report, printable)
