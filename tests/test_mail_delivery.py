"""Mail delivery against real SMTP servers that misbehave the way real ones do: a recipient refused
with 550, a message rejected at DATA, a 451 "try later", a server that is down and comes back, TLS with a
self-signed certificate made here, and a server offering AUTH without TLS."""

from __future__ import annotations

import asyncio
import datetime
import email
import itertools
import secrets
import ssl
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from econ_monitor import pipeline
from econ_monitor.alerts.outbox import Mail, deliver_pending, enqueue
from econ_monitor.mailsink import free_port
from econ_monitor.settings import SettingsError, load_settings
from econ_monitor.warehouse import connect
from tests.conftest import Mailbox
from tests.support import rows

INDUSTRY, COMMERCE, TECH = (
    "industry-vice-mayor@jiaozhou.example",
    "commerce-vice-mayor@jiaozhou.example",
    "tech-vice-mayor@jiaozhou.example",
)
DATA_TEAM = "data-team@jiaozhou.example"
_keys = itertools.count(1)


class Handler:
    """What a real server answers: refusals per recipient at RCPT or at DATA, and scripted DATA replies."""

    def __init__(self, refuse_rcpt=(), refuse_data=(), data_replies=(), stall=()):
        self.refuse_rcpt, self.refuse_data, self.stall = set(refuse_rcpt), set(refuse_data), set(stall)
        self.data_replies = list(data_replies)
        self.messages: list[email.message.EmailMessage] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook
        if address in self.refuse_rcpt:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook
        if set(envelope.rcpt_tos) & self.refuse_data:
            return "554 5.7.1 Message rejected: content policy"
        if set(envelope.rcpt_tos) & self.stall:
            await asyncio.sleep(5)  # longer than the client waits
            return "250 OK"
        if self.data_replies:
            return self.data_replies.pop(0)
        self.messages.append(
            email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        )
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=True)

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp(monkeypatch):
    """Start a real SMTP server with a given handler and TLS set-up, pointing the platform at it."""
    controllers = []

    def start(handler: Handler, host: str = "127.0.0.1", **smtp_parameters) -> Handler:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_parameters)
        controller.start()
        controllers.append(controller)
        monkeypatch.setenv("ECON_SMTP_HOST", host)
        monkeypatch.setenv("ECON_SMTP_PORT", str(port))
        return handler

    yield start
    for controller in controllers:
        controller.stop()


def _queue(conn, *codes: str, kind: str = "digest") -> list[int]:
    with conn.transaction(), conn.cursor() as cur:
        return [
            enqueue(cur, Mail(kind, f"test:{next(_keys)}", code, f"【测试】mail to {code}", "正文", "<p>正文</p>"))
            for code in codes
        ]


def _deliver():
    with connect() as conn:
        return deliver_pending(conn, load_settings())


def _make_due(conn) -> None:
    """Let the backoff time pass."""
    conn.execute("UPDATE monitor.outbox SET next_attempt_at = now() WHERE status = 'pending'")


def _state(conn) -> dict[str, tuple]:
    return {
        email_: (status, attempts)
        for email_, status, attempts in rows(
            conn, "SELECT recipient_email, status, attempts FROM monitor.outbox ORDER BY message_id"
        )
    }


def test_every_attempt_of_a_mail_carries_the_same_message_id(conn, smtp):
    server = smtp(Handler())
    (message_id,) = _queue(conn, "L03")
    _deliver()
    # A crash between the server's "250" and the `sent` mark: the next run sends the mail again.
    conn.execute("UPDATE monitor.outbox SET status = 'pending', sent_at = NULL WHERE message_id = %s", (message_id,))
    _deliver()
    first, second = server.to(INDUSTRY)
    assert first["Message-ID"] == second["Message-ID"] == f"<econ-monitor.outbox.{message_id}@jiaozhou.example>"


@pytest.mark.parametrize("refused_at", ["RCPT", "DATA"])
def test_a_refused_mail_fails_for_good_the_others_go_out_and_the_data_team_is_told_once(
    conn, smtp, monkeypatch, refused_at
):
    monkeypatch.setenv("ECON_MAIL_MAX_ATTEMPTS", "2")
    server = smtp(
        Handler(
            refuse_rcpt={INDUSTRY} if refused_at == "RCPT" else (),
            refuse_data={INDUSTRY} if refused_at == "DATA" else (),
        )
    )
    _queue(conn, "L03", "L04", "L05")  # the refused one first: it must not hold up the others

    first = _deliver()
    assert (first.sent, first.failed, first.pending) == (2, 0, 1)
    assert {m["To"] for m in server.messages} == {COMMERCE, TECH}
    assert _state(conn)[INDUSTRY] == ("pending", 1)

    _make_due(conn)
    second = _deliver()
    assert (second.failed, second.pending) == (1, 0)
    ((status, error),) = rows(
        conn, "SELECT status, last_error FROM monitor.outbox WHERE recipient_email = %s", (INDUSTRY,)
    )
    reason = "Recipient address rejected" if refused_at == "RCPT" else "content policy"
    assert status == "failed" and reason in error and ("550" in error if refused_at == "RCPT" else "554" in error)
    (report,) = server.to(DATA_TEAM)
    text = report.get_body(("plain",)).get_content()
    assert INDUSTRY in text and "【测试】mail to L03" in text and reason in text

    for _ in range(3):  # later runs neither retry the failed mail nor report it again
        _make_due(conn)
        assert _deliver().sent == 0
    assert len(server.to(DATA_TEAM)) == 1 and server.to(INDUSTRY) == []
    assert _state(conn)[INDUSTRY] == ("failed", 2)


def test_a_failure_report_that_fails_itself_is_not_reported_again(conn, smtp, monkeypatch):
    monkeypatch.setenv("ECON_MAIL_MAX_ATTEMPTS", "1")
    server = smtp(Handler(refuse_rcpt={INDUSTRY, DATA_TEAM}))
    _queue(conn, "L03")
    _deliver()
    for _ in range(3):
        _make_due(conn)
        _deliver()
    assert rows(conn, "SELECT kind, recipient_email, status FROM monitor.outbox ORDER BY message_id") == [
        ("digest", INDUSTRY, "failed"),
        ("data_team", DATA_TEAM, "failed"),
    ]
    assert server.messages == []


def test_a_temporary_refusal_is_retried_until_the_mail_goes_out(conn, smtp, monkeypatch):
    monkeypatch.setenv("ECON_MAIL_MAX_ATTEMPTS", "1")  # bounds permanent failures only
    server = smtp(Handler(data_replies=["451 4.3.0 Temporary local problem, try again later"] * 2))
    _queue(conn, "L03")
    for _ in range(2):
        outcome = _deliver()
        assert (outcome.sent, outcome.pending) == (0, 1)
        _make_due(conn)
    ((status, error, _due_later),) = rows(
        conn, "SELECT status, last_error, next_attempt_at > now() FROM monitor.outbox"
    )
    assert status == "pending" and "451" in error and "try again later" in error
    assert _deliver().sent == 1
    assert _state(conn)[INDUSTRY] == ("sent", 3) and len(server.to(INDUSTRY)) == 1
    assert server.to(DATA_TEAM) == []


def test_a_mail_that_times_out_stays_pending_and_the_others_go_out(conn, smtp, monkeypatch):
    monkeypatch.setenv("ECON_SMTP_TIMEOUT_SECONDS", "1")
    server = smtp(Handler(stall={INDUSTRY}))
    _queue(conn, "L03", "L04", "L05")
    outcome = _deliver()
    assert (outcome.sent, outcome.failed, outcome.pending) == (2, 0, 1)
    assert {m["To"] for m in server.messages} == {COMMERCE, TECH}
    ((status, error),) = rows(
        conn, "SELECT status, last_error FROM monitor.outbox WHERE recipient_email = %s", (INDUSTRY,)
    )
    assert status == "pending" and "timed out" in error


def test_a_retry_waits_for_its_backoff(conn, smtp):
    smtp(Handler(data_replies=["451 4.3.0 try again later"]))
    _queue(conn, "L03")
    _deliver()
    assert _deliver().sent == 0  # not due yet
    assert rows(conn, "SELECT next_attempt_at > now() + interval '4 minutes' FROM monitor.outbox") == [(True,)]


def test_a_server_that_is_down_then_up_gets_every_mail_once(conn, monkeypatch):
    port = free_port()
    monkeypatch.setenv("ECON_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ECON_SMTP_PORT", str(port))
    _queue(conn, "L03", "L04", "L05")
    down = _deliver()
    assert (down.sent, down.pending) == (0, 3)
    assert "Connection refused" in rows(conn, "SELECT last_error FROM monitor.outbox ORDER BY message_id LIMIT 1")[0][0]
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _make_due(conn)
        up = _deliver()
        _make_due(conn)
        again = _deliver()
    finally:
        controller.stop()
    assert (up.sent, up.pending, again.sent) == (3, 0, 0)
    assert sorted(m["To"] for m in handler.messages) == sorted([INDUSTRY, COMMERCE, TECH])


# --- TLS -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> dict[str, Path]:
    """A throw-away CA and a server certificate for the name `localhost` only (not 127.0.0.1)."""
    directory = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, key, issuer_name, issuer_key, ca: bool, san=None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "econ-monitor test CA")])
    ca = build("econ-monitor test CA", ca_key, ca_name, ca_key, ca=True)
    server = build("localhost", server_key, ca_name, ca_key, ca=False, san=[x509.DNSName("localhost")])
    paths = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


def _server_context(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate["cert"], certificate["key"])
    return context


def _tls_server(smtp, certificate, mode: str, host: str, handler: Handler | None = None, **parameters) -> Handler:
    handler = handler or Handler()
    if mode == "starttls":
        return smtp(handler, host=host, tls_context=_server_context(certificate), require_starttls=True, **parameters)
    return smtp(handler, host=host, ssl_context=_server_context(certificate), **parameters)


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_tls_verifies_the_certificate_against_the_configured_ca(conn, smtp, certificate, monkeypatch, mode):
    server = _tls_server(smtp, certificate, mode, "localhost")
    monkeypatch.setenv("ECON_SMTP_TLS", mode)
    _queue(conn, "L03")

    untrusted = _deliver()
    assert (untrusted.sent, untrusted.pending) == (0, 1) and server.messages == []
    assert "CERTIFICATE_VERIFY_FAILED" in rows(conn, "SELECT last_error FROM monitor.outbox")[0][0]

    monkeypatch.setenv("ECON_SMTP_CA_FILE", str(certificate["ca"]))
    _make_due(conn)
    assert _deliver().sent == 1
    assert len(server.to(INDUSTRY)) == 1


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_tls_verifies_the_host_name(conn, smtp, certificate, monkeypatch, mode):
    server = _tls_server(smtp, certificate, mode, "127.0.0.1")  # the certificate names localhost only
    monkeypatch.setenv("ECON_SMTP_TLS", mode)
    monkeypatch.setenv("ECON_SMTP_CA_FILE", str(certificate["ca"]))
    _queue(conn, "L03")
    assert _deliver().sent == 0 and server.messages == []
    error = rows(conn, "SELECT last_error FROM monitor.outbox")[0][0]
    assert "CERTIFICATE_VERIFY_FAILED" in error and "127.0.0.1" in error


def test_credentials_are_never_sent_without_tls(conn, smtp, monkeypatch):
    server = Handler()
    smtp(server, authenticator=server.authenticate, auth_require_tls=False)  # offers AUTH in clear text
    monkeypatch.setenv("ECON_SMTP_USER", "econ")
    monkeypatch.setenv("ECON_SMTP_PASSWORD", "s3cret-password")
    _queue(conn, "L03")
    with pytest.raises(SettingsError, match="ECON_SMTP_ALLOW_PLAINTEXT_AUTH"):
        _deliver()
    assert server.logins == [] and server.messages == []
    assert _state(conn)[INDUSTRY] == ("pending", 0)

    monkeypatch.setenv("ECON_SMTP_ALLOW_PLAINTEXT_AUTH", "true")  # a trusted network, said explicitly
    assert _deliver().sent == 1
    assert server.logins == [("econ", "s3cret-password")]


def test_credentials_go_over_starttls(conn, smtp, certificate, monkeypatch):
    handler = Handler()
    _tls_server(smtp, certificate, "starttls", "localhost", handler, authenticator=handler.authenticate)
    monkeypatch.setenv("ECON_SMTP_TLS", "starttls")
    monkeypatch.setenv("ECON_SMTP_CA_FILE", str(certificate["ca"]))
    monkeypatch.setenv("ECON_SMTP_USER", "econ")
    monkeypatch.setenv("ECON_SMTP_PASSWORD", "s3cret-password")
    _queue(conn, "L03")
    assert _deliver().sent == 1
    assert handler.logins == [("econ", "s3cret-password")] and len(handler.to(INDUSTRY)) == 1


def test_an_unknown_tls_mode_is_refused(monkeypatch):
    monkeypatch.setenv("ECON_SMTP_TLS", "ssl")
    with pytest.raises(SettingsError, match="ECON_SMTP_TLS"):
        load_settings()


# --- links in digests -------------------------------------------------------------------------------------


@pytest.mark.sample_built
def test_no_digest_is_built_without_a_usable_link_secret_and_the_next_run_sends_them(conn, mailbox, monkeypatch):
    monkeypatch.delenv("ECON_LINK_SECRET")  # a deployment that forgot it (ECON_WAREHOUSE_URL is set)
    with pytest.raises(SettingsError, match="ECON_LINK_SECRET is not set"):
        pipeline.raise_alerts()
    assert rows(conn, "SELECT count(*) FROM monitor.outbox") == [(0,)]

    monkeypatch.setenv("ECON_LINK_SECRET", secrets.token_urlsafe(32))
    assert pipeline.raise_alerts()["digests_queued"] > 0
    pipeline.deliver_mail()
    digests = [m for m in mailbox.messages if m["X-Econ-Monitor-Kind"] == "digest"]
    assert digests and all("/alerts/close?token=" in Mailbox.html(m) for m in digests)
