"""The mail outbox: every mail is written to `monitor.outbox` before it is sent, and marked sent only
after the SMTP server accepted it. A send that fails stays pending and is retried on a later run with
exponential backoff, so a mail server outage loses nothing, and nothing is sent twice by a re-run.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import psycopg

from econ_monitor.reference import leader
from econ_monitor.settings import Settings

log = logging.getLogger(__name__)

BACKOFF_BASE_MINUTES = 5
BACKOFF_MAX_MINUTES = 240


@dataclass(frozen=True)
class Mail:
    kind: str  # digest / escalation / data_team
    dedupe_key: str
    recipient_code: str
    subject: str
    body_text: str
    body_html: str
    alert_keys: tuple[str, ...] = ()


def enqueue(cur: psycopg.Cursor, mail: Mail) -> int | None:
    """Queue a mail inside the caller's transaction; a mail with the same dedupe key is queued once."""
    # A plain cursor on the caller's connection: same transaction, whatever row factory the caller uses.
    row = cur.connection.cursor().execute(
        """INSERT INTO monitor.outbox (kind, dedupe_key, recipient_code, recipient_email, subject, body_text,
               body_html, alert_keys)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (dedupe_key) DO NOTHING RETURNING message_id""",
        (mail.kind, mail.dedupe_key, mail.recipient_code, leader(mail.recipient_code).email, mail.subject,
         mail.body_text, mail.body_html, list(mail.alert_keys)),
    ).fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class DeliverySummary:
    sent: int
    failed: int
    pending: int


def _message(settings: Settings, row: dict) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row["recipient_email"]
    message["Subject"] = row["subject"]
    message["Date"] = formatdate(localtime=True)
    # Stable per outbox row: if a send is retried after the server had in fact accepted it,
    # mail clients and archives see the same Message-ID and can fold the copies.
    message["Message-ID"] = make_msgid(idstring=f"outbox-{row['message_id']}", domain="econ-monitor.local")
    message["X-Econ-Monitor-Kind"] = row["kind"]
    message.set_content(row["body_text"])
    message.add_alternative(row["body_html"], subtype="html")
    return message


def deliver_pending(conn: psycopg.Connection, settings: Settings) -> DeliverySummary:
    """Send every pending mail that is due. Each mail is claimed under a row lock, so two concurrent
    runs cannot send the same mail."""
    if not settings.smtp_host:
        raise RuntimeError("ECON_SMTP_HOST is not set: no mail server to deliver to")
    sent = failed = 0
    smtp: smtplib.SMTP | None = None
    try:
        while True:
            with conn.transaction():
                row = conn.execute(
                    """SELECT message_id, kind, recipient_email, subject, body_text, body_html, attempts
                       FROM monitor.outbox
                       WHERE status = 'pending' AND next_attempt_at <= now()
                       ORDER BY message_id LIMIT 1 FOR UPDATE SKIP LOCKED"""
                ).fetchone()
                if row is None:
                    break
                columns = ("message_id", "kind", "recipient_email", "subject", "body_text", "body_html", "attempts")
                record = dict(zip(columns, row))
                try:
                    if smtp is None:
                        smtp = _connect(settings)
                    smtp.send_message(_message(settings, record))
                except (OSError, smtplib.SMTPException) as exc:
                    failed += 1
                    smtp = _discard(smtp)
                    delay = min(BACKOFF_BASE_MINUTES * 2 ** record["attempts"], BACKOFF_MAX_MINUTES)
                    conn.execute(
                        """UPDATE monitor.outbox SET attempts = attempts + 1, last_error = %s,
                               next_attempt_at = now() + make_interval(mins => %s)
                           WHERE message_id = %s""",
                        (f"{type(exc).__name__}: {exc}"[:500], delay, record["message_id"]),
                    )
                    log.warning("mail %s to %s not sent: %s", record["message_id"], record["recipient_email"], exc)
                    if isinstance(exc, OSError):
                        break  # the server is unreachable: the rest waits for the next run
                    continue
                conn.execute(
                    "UPDATE monitor.outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1 WHERE message_id = %s",
                    (record["message_id"],),
                )
                sent += 1
    finally:
        _discard(smtp)
    pending = conn.execute("SELECT count(*) FROM monitor.outbox WHERE status = 'pending'").fetchone()[0]
    return DeliverySummary(sent, failed, pending)


def _connect(settings: Settings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
    if settings.smtp_starttls:
        smtp.starttls()
    if settings.smtp_user:
        smtp.login(settings.smtp_user, settings.smtp_password or "")
    return smtp


def _discard(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return None
