"""The mail outbox: every mail is written to `monitor.outbox` before it is sent, and marked sent only
after the SMTP server accepted it. A send that fails stays pending and is retried on a later run with
exponential backoff, so a mail server outage loses nothing, and nothing is sent twice by a re-run.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
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
# Reports embed their charts as data: URIs, so the archived HTML is one self-contained file. Many mail
# clients (Outlook, Gmail) do not show data: images; in the mail they travel as inline parts instead.
_DATA_IMAGE = re.compile(r'src="data:image/(png|jpeg|gif);base64,([A-Za-z0-9+/=]+)"')


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # 'application/pdf'
    content: bytes


@dataclass(frozen=True)
class Mail:
    kind: str  # digest / escalation / data_team
    dedupe_key: str
    recipient_code: str
    subject: str
    body_text: str
    body_html: str
    alert_keys: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()


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
    if row:
        _store_attachments(cur.connection, row[0], mail.attachments)
    return row[0] if row else None


def _store_attachments(conn: psycopg.Connection, message_id: int, attachments: tuple[Attachment, ...]) -> None:
    """The bytes once per content (every leader's copy of a report shares one PDF), a row per mail."""
    for position, attachment in enumerate(attachments):
        digest = hashlib.sha256(attachment.content).hexdigest()
        conn.execute("INSERT INTO monitor.mail_attachments (sha256, content) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                     (digest, attachment.content))
        conn.execute(
            """INSERT INTO monitor.outbox_attachments (message_id, position, filename, content_type, sha256)
               VALUES (%s, %s, %s, %s, %s)""",
            (message_id, position, attachment.filename, attachment.content_type, digest),
        )


def _attach(conn: psycopg.Connection, message: EmailMessage, message_id: int) -> None:
    for filename, content_type, content in conn.execute(
        """SELECT a.filename, a.content_type, m.content FROM monitor.outbox_attachments a
           JOIN monitor.mail_attachments m USING (sha256) WHERE a.message_id = %s ORDER BY a.position""",
        (message_id,),
    ):
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(bytes(content), maintype=maintype, subtype=subtype, filename=filename)


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
    html, images = _with_inline_images(row["body_html"], row["message_id"])
    message.add_alternative(html, subtype="html")
    html_part = message.get_payload()[1]
    for content_id, subtype, data in images:
        html_part.add_related(data, maintype="image", subtype=subtype, cid=content_id, disposition="inline")
    return message


def _with_inline_images(html: str, message_id: int) -> tuple[str, list[tuple[str, str, bytes]]]:
    """The HTML with each data: image replaced by a cid: reference, and the images as (Content-ID, subtype,
    bytes) for the related parts."""
    images: list[tuple[str, str, bytes]] = []

    def to_content_id(match: re.Match) -> str:
        content_id = make_msgid(idstring=f"outbox-{message_id}-image-{len(images)}", domain="econ-monitor.local")
        images.append((content_id, match.group(1), base64.b64decode(match.group(2))))
        return f'src="cid:{content_id[1:-1]}"'

    return _DATA_IMAGE.sub(to_content_id, html), images


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
                    message = _message(settings, record)
                    _attach(conn, message, record["message_id"])
                    smtp.send_message(message)
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
