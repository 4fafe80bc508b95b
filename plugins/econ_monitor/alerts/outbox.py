"""The mail outbox: every mail is written to `monitor.outbox` before it is sent, and marked sent only
after the SMTP server accepted it, so a mail server outage loses nothing and a re-run sends nothing twice.

What the server answers decides what happens next:
- a temporary failure (server unreachable, timeout, a 4xx reply) keeps the mail pending, retried on later
  runs with exponential backoff, for as long as it takes;
- a permanent refusal (a 5xx reply: the recipient refused, the message or the sender rejected) is tried
  ECON_MAIL_MAX_ATTEMPTS times in all, then the mail ends `failed` with the server's reason, and the data
  team (DT0) gets one summary of the failures of the run. A summary to DT0 that fails is only logged,
  never reported by another mail.
A mail that fails never holds up the ones queued behind it; only an unreachable server ends the run.

Every attempt of one outbox row carries the same Message-ID (`<econ-monitor.outbox.<id>@<sender's
domain>>`): a mail re-sent after a crash between the server's acceptance and the `sent` mark is
recognisably the same message, and mail clients fold the copies.

The connection is verified TLS (ECON_SMTP_TLS=starttls or implicit, `ssl.create_default_context()`:
certificate chain and host name; ECON_SMTP_CA_FILE replaces the system's CAs, e.g. for an internal CA),
and credentials are never sent over a connection without TLS unless ECON_SMTP_ALLOW_PLAINTEXT_AUTH says so.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import psycopg
from psycopg.rows import dict_row

from econ_monitor.reference import DATA_TEAM, leader
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
    row = (
        cur.connection.cursor()
        .execute(
            """INSERT INTO monitor.outbox (kind, dedupe_key, recipient_code, recipient_email, subject, body_text,
               body_html, alert_keys)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (dedupe_key) DO NOTHING RETURNING message_id""",
            (
                mail.kind,
                mail.dedupe_key,
                mail.recipient_code,
                leader(mail.recipient_code).email,
                mail.subject,
                mail.body_text,
                mail.body_html,
                list(mail.alert_keys),
            ),
        )
        .fetchone()
    )
    if row:
        _store_attachments(cur.connection, row[0], mail.attachments)
    return row[0] if row else None


def _store_attachments(conn: psycopg.Connection, message_id: int, attachments: tuple[Attachment, ...]) -> None:
    """The bytes once per content (every leader's copy of a report shares one PDF), a row per mail."""
    for position, attachment in enumerate(attachments):
        digest = hashlib.sha256(attachment.content).hexdigest()
        conn.execute(
            "INSERT INTO monitor.mail_attachments (sha256, content) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (digest, attachment.content),
        )
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
    sent: int  # accepted by the server in this run
    failed: int  # ended `failed` in this run (refused for good)
    pending: int  # still waiting, now or for a retry


def _message(settings: Settings, row: dict) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row["recipient_email"]
    message["Subject"] = row["subject"]
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = f"<econ-monitor.outbox.{row['message_id']}@{settings.mail_domain}>"
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
    runs cannot send the same mail; its outcome is recorded in the same transaction."""
    if not settings.smtp_host:
        raise RuntimeError("ECON_SMTP_HOST is not set: no mail server to deliver to")
    settings.check_smtp()
    sent = failed = 0
    smtp: smtplib.SMTP | None = None
    try:
        while True:
            with conn.transaction():
                record = (
                    conn.cursor(row_factory=dict_row)
                    .execute(
                        """SELECT message_id, kind, recipient_email, subject, body_text, body_html, attempts
                       FROM monitor.outbox
                       WHERE status = 'pending' AND next_attempt_at <= now()
                       ORDER BY message_id LIMIT 1 FOR UPDATE SKIP LOCKED"""
                    )
                    .fetchone()
                )
                if record is None:
                    if _report_failures(conn):
                        continue  # the data team's summary is due now: send it in this run
                    break
                try:
                    message = _message(settings, record)
                    _attach(conn, message, record["message_id"])
                except Exception as exc:  # noqa: BLE001 - a row that cannot become a mail must not stop the others
                    _fail(conn, record, f"the mail could not be composed: {type(exc).__name__}: {exc}")
                    failed += 1
                    continue
                if smtp is None:
                    try:
                        smtp = _connect(settings)
                    except OSError as exc:  # smtplib.SMTPException and ssl.SSLError are OSErrors too
                        _retry_later(conn, record, _reason(exc))
                        log.warning(
                            "mail server %s:%s not usable, %s waits for a later run: %s",
                            settings.smtp_host,
                            settings.smtp_port,
                            record["message_id"],
                            exc,
                        )
                        break  # every mail behind this one would fail the same way
                try:
                    smtp.send_message(message)
                except OSError as exc:
                    smtp = _discard(smtp, polite=_is_reply(exc))
                    reason = _reason(exc)
                    if _is_permanent(exc) and record["attempts"] + 1 >= settings.mail_max_attempts:
                        _fail(conn, record, reason)
                        failed += 1
                    else:
                        _retry_later(conn, record, reason)
                    log.warning("mail %s to %s not sent: %s", record["message_id"], record["recipient_email"], reason)
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


def _is_reply(exc: OSError) -> bool:
    """The server answered (and smtplib reset the transaction): the connection itself is sound."""
    return isinstance(exc, (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused))


def _is_permanent(exc: OSError) -> bool:
    """A 5xx reply: the same mail will be refused again. Every recipient must have been refused for good."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600


def _reason(exc: OSError) -> str:
    """The server's own words where it gave any, for the outbox and the data team's summary."""

    def text(value: bytes | str) -> str:
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        reason = "; ".join(f"{address}: {code} {text(reply)}" for address, (code, reply) in exc.recipients.items())
    elif isinstance(exc, smtplib.SMTPResponseException):
        reason = f"{exc.smtp_code} {text(exc.smtp_error)}"
    else:
        reason = str(exc) or repr(exc)
    return f"{type(exc).__name__}: {reason}"[:1000]


def _retry_later(conn: psycopg.Connection, record: dict, reason: str) -> None:
    delay = min(BACKOFF_BASE_MINUTES * 2 ** record["attempts"], BACKOFF_MAX_MINUTES)
    conn.execute(
        """UPDATE monitor.outbox SET attempts = attempts + 1, last_error = %s,
               next_attempt_at = now() + make_interval(mins => %s)
           WHERE message_id = %s""",
        (reason, delay, record["message_id"]),
    )


def _fail(conn: psycopg.Connection, record: dict, reason: str) -> None:
    conn.execute(
        """UPDATE monitor.outbox SET status = 'failed', failed_at = now(), attempts = attempts + 1, last_error = %s
           WHERE message_id = %s""",
        (reason, record["message_id"]),
    )
    log.error("mail %s to %s failed for good: %s", record["message_id"], record["recipient_email"], reason)


def _report_failures(conn: psycopg.Connection) -> bool:
    """Queue one mail to the data team listing the mails that failed for good and were not reported yet;
    True when one was queued. The data team's own mails are never reported by mail (a report about a
    report that cannot be delivered would be refused in turn): they are logged."""
    from econ_monitor.alerts.digest import queue_data_team_mail  # digest composes mails with this module

    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        failures = cur.execute(
            """SELECT message_id, kind, recipient_code, recipient_email, subject, attempts, last_error
               FROM monitor.outbox WHERE status = 'failed' AND failure_reported_at IS NULL
               ORDER BY message_id FOR UPDATE SKIP LOCKED"""
        ).fetchall()
        if not failures:
            return False
        reportable = []
        for failure in failures:
            if failure["kind"] == "data_team" or failure["recipient_code"] == DATA_TEAM:
                log.error(
                    "mail %s to the data team (%s, %r) failed for good and is not reported by mail: %s",
                    failure["message_id"],
                    failure["recipient_email"],
                    failure["subject"],
                    failure["last_error"],
                )
            else:
                reportable.append(failure)
        if reportable:
            ids = ",".join(str(f["message_id"]) for f in reportable)
            queue_data_team_mail(
                cur,
                f"mail-failed:{hashlib.sha256(ids.encode()).hexdigest()[:32]}",
                f"【邮件投递失败】{len(reportable)} 封邮件未能送达，已停止重试",
                "以下邮件被邮件服务器永久拒收（或无法生成），已停止重试。请核对收件地址或邮件服务器配置，必要时通过其他渠道转达：",
                [
                    {
                        "what": f"邮件未送达：{f['subject']}",
                        "where": f"{f['recipient_email']}（{f['recipient_code']}，{f['kind']}，outbox 第 {f['message_id']} 号，"
                        f"尝试 {f['attempts']} 次）",
                        "detail": f["last_error"] or "",
                    }
                    for f in reportable
                ],
            )
        cur.execute(
            "UPDATE monitor.outbox SET failure_reported_at = now() WHERE message_id = ANY(%s)",
            ([f["message_id"] for f in failures],),
        )
    return bool(reportable)


def _connect(settings: Settings) -> smtplib.SMTP:
    """A connection as configured: verified TLS where asked for, and a login only over TLS (or where
    plain-text logins are explicitly allowed, which `Settings.check_smtp` has checked)."""
    context = ssl.create_default_context(cafile=settings.smtp_ca_file) if settings.smtp_tls != "none" else None
    if settings.smtp_tls == "implicit":
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds)
    try:
        if settings.smtp_tls == "starttls":
            smtp.starttls(context=context)
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _discard(smtp: smtplib.SMTP | None, polite: bool = True) -> None:
    """Close a connection: with QUIT when the server is talking, at once when it may not answer."""
    if smtp is not None:
        try:
            if polite:
                smtp.quit()
            else:
                smtp.close()
        except OSError:
            smtp.close()
    return None
