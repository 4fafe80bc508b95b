"""Configuration from the environment, in one place.

Every endpoint and secret is an environment variable (the README lists them); nothing secret lives in
the repository. Defaults describe the embedded single-machine set-up that `make demo` uses.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_DIR = Path(os.environ.get("ECON_PROJECT_DIR", Path(__file__).resolve().parents[2]))

# The platform runs on networks without internet access: nothing may wait on telemetry.
OFFLINE_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "SCARF_ANALYTICS": "false",
}


class SettingsError(ValueError):
    """A configuration the platform refuses to run with; the message names the variable and the fix."""


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    warehouse_url: str | None
    local_dir: Path
    # --- mail and links (H2) ---
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_tls: str  # one of SMTP_TLS_MODES
    smtp_ca_file: str | None
    smtp_allow_plaintext_auth: bool
    smtp_timeout_seconds: float
    mail_from: str
    mail_max_attempts: int
    link_secret: str | None
    link_base_url: str
    link_ttl_days: int
    link_rate_per_token: int
    link_rate_per_address: int
    link_rate_window_seconds: int
    # --- end of mail and links ---
    escalation_days: int

    @property
    def pgdata_dir(self) -> Path:
        return self.local_dir / "pgdata"

    @property
    def outbox_dir(self) -> Path:
        return self.local_dir / "outbox"

    @property
    def quarantine_dir(self) -> Path:
        return self.local_dir / "quarantine"

    @property
    def airflow_home(self) -> Path:
        return self.local_dir / "airflow"

    @property
    def mail_domain(self) -> str:
        """The sender's domain, which names the platform's Message-IDs."""
        return parseaddr(self.mail_from)[1].rpartition("@")[2] or "econ-monitor.local"

    def check_links(self) -> None:
        """SettingsError unless claim/close links can be signed and opened (see `check_link_settings`)."""
        check_link_settings(self.link_secret, self.link_base_url)

    def check_smtp(self) -> None:
        """Refuse a mail set-up that would send the SMTP password in clear text."""
        if self.smtp_user and self.smtp_tls == "none" and not self.smtp_allow_plaintext_auth:
            raise SettingsError(
                "ECON_SMTP_USER is set but ECON_SMTP_TLS=none: the password would cross the network "
                "in clear text. Set ECON_SMTP_TLS=starttls or implicit, or (on a trusted network only) "
                "ECON_SMTP_ALLOW_PLAINTEXT_AUTH=true"
            )


# Mail and links (H2).
SMTP_TLS_MODES = ("none", "starttls", "implicit")
MIN_LINK_SECRET_BYTES = 32
# Words that mark a value copied from an example file rather than generated.
PLACEHOLDER_WORDS = (
    "change-me",
    "changeme",
    "change_me",
    "replace-me",
    "replace_me",
    "placeholder",
    "not-for-production",
    "your-secret",
    "example",
)


def _smtp_tls() -> str:
    mode = (os.environ.get("ECON_SMTP_TLS") or "none").strip().lower()
    if mode not in SMTP_TLS_MODES:
        raise SettingsError(f"ECON_SMTP_TLS={mode!r}: expected one of {', '.join(SMTP_TLS_MODES)}")
    return mode


_GENERATE = "e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def check_link_settings(secret: str | None, base_url: str) -> None:
    """Refuse to sign or accept claim/close links with a guessable secret or a base URL a mail client
    cannot open: a mail whose links do not work (or can be forged) is worse than no mail, so the digests
    and the claim/close app stop with this error instead. A secret is refused when it is missing, shorter
    than 32 bytes, contains a placeholder word (change-me, example, ...) or uses fewer than 8 distinct
    characters."""
    secret = secret or ""
    if not secret:
        raise SettingsError(
            f"ECON_LINK_SECRET is not set: claim/close links cannot be signed. Set it to a random value, {_GENERATE}"
        )
    if len(secret.encode("utf-8")) < MIN_LINK_SECRET_BYTES:
        raise SettingsError(
            f"ECON_LINK_SECRET is shorter than {MIN_LINK_SECRET_BYTES} bytes: links could be forged. "
            f"Set it to a random value, {_GENERATE}"
        )
    if any(word in secret.lower() for word in PLACEHOLDER_WORDS) or len(set(secret)) < 8:
        raise SettingsError(
            f"ECON_LINK_SECRET is a placeholder, not a secret: replace it with a random value, {_GENERATE}"
        )
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(
            f"ECON_LINK_BASE_URL {base_url!r} is not an absolute http(s) URL: links in mails must name "
            "the host leaders reach, e.g. https://airflow.example.gov.cn/econ-monitor"
        )


def _local_link_secret(local_dir: Path) -> str:
    """On the embedded single-machine set-up, a random secret kept under .local (never in the repo), so
    the demo's mails carry working links; a deployment sets ECON_LINK_SECRET itself."""
    path = local_dir / "link-secret"
    if not path.exists():
        local_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load_settings() -> Settings:
    local_dir = Path(os.environ.get("ECON_LOCAL_DIR", PROJECT_DIR / ".local")).resolve()
    warehouse = os.environ.get("ECON_WAREHOUSE_URL") or None
    link_secret = os.environ.get("ECON_LINK_SECRET") or (None if warehouse else _local_link_secret(local_dir))
    smtp_tls = _smtp_tls()
    return Settings(
        warehouse_url=warehouse,
        local_dir=local_dir,
        # --- mail and links (H2) ---
        smtp_host=os.environ.get("ECON_SMTP_HOST") or None,
        smtp_port=int(os.environ.get("ECON_SMTP_PORT") or (465 if smtp_tls == "implicit" else 25)),
        smtp_user=os.environ.get("ECON_SMTP_USER") or None,
        smtp_password=os.environ.get("ECON_SMTP_PASSWORD") or None,
        smtp_tls=smtp_tls,
        smtp_ca_file=os.environ.get("ECON_SMTP_CA_FILE") or None,
        smtp_allow_plaintext_auth=_flag("ECON_SMTP_ALLOW_PLAINTEXT_AUTH", False),
        smtp_timeout_seconds=float(os.environ.get("ECON_SMTP_TIMEOUT_SECONDS", "30")),
        mail_from=os.environ.get("ECON_MAIL_FROM", "econ-monitor@jiaozhou.example"),
        mail_max_attempts=max(1, int(os.environ.get("ECON_MAIL_MAX_ATTEMPTS", "3"))),
        link_secret=link_secret,
        link_base_url=os.environ.get("ECON_LINK_BASE_URL", "http://localhost:8080/econ-monitor"),
        link_ttl_days=int(os.environ.get("ECON_LINK_TTL_DAYS", "14")),
        link_rate_per_token=int(os.environ.get("ECON_LINK_RATE_PER_TOKEN", "10")),
        link_rate_per_address=int(os.environ.get("ECON_LINK_RATE_PER_ADDRESS", "60")),
        link_rate_window_seconds=int(os.environ.get("ECON_LINK_RATE_WINDOW_SECONDS", "60")),
        # --- end of mail and links ---
        escalation_days=int(os.environ.get("ECON_ESCALATION_DAYS", "3")),
    )


def apply_offline_defaults() -> None:
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)


# --- Ingest limits and the landing area (issue #13) -------------------------------------------------
# A departmental file is small: the biggest real one, the province-wide 重点企业产值月报, is a CSV of about a
# million rows (~100 MB). The limits sit well above that and far below what would exhaust the worker: a
# file over any of them is quarantined whole, before its data is read.


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


@dataclass(frozen=True)
class IngestLimits:
    max_file_bytes: int  # ECON_MAX_FILE_BYTES: size of the delivered file
    max_uncompressed_bytes: int  # ECON_MAX_UNCOMPRESSED_BYTES: an .xlsx's unpacked parts, checked before it is opened
    max_rows: int  # ECON_MAX_ROWS: rows of a sheet or lines of a CSV (also a sheet's declared used range)
    max_columns: int  # ECON_MAX_COLUMNS: cells in a row
    max_cell_chars: int  # ECON_MAX_CELL_CHARS: characters in one cell (Excel's own limit is 32,767)
    # ECON_FILE_SETTLE_SECONDS: a file is taken only once it has not been modified for this long, so a file
    # still being copied into the landing area is left for the next run (see loader.scan_landing).
    settle_seconds: float
    # ECON_LEDGER_MIN_SHARE: a weekly project ledger listing fewer projects than this share of the previous
    # ledger's is a critical quality failure (a truncated upload or the wrong sheet), see quality/suites.py.
    ledger_min_share: float


def load_ingest_limits() -> IngestLimits:
    return IngestLimits(
        max_file_bytes=_int("ECON_MAX_FILE_BYTES", 512 << 20),
        max_uncompressed_bytes=_int("ECON_MAX_UNCOMPRESSED_BYTES", 256 << 20),
        max_rows=_int("ECON_MAX_ROWS", 2_000_000),
        max_columns=_int("ECON_MAX_COLUMNS", 200),
        max_cell_chars=_int("ECON_MAX_CELL_CHARS", 32_767),
        settle_seconds=float(os.environ.get("ECON_FILE_SETTLE_SECONDS") or 60),
        ledger_min_share=float(os.environ.get("ECON_LEDGER_MIN_SHARE") or 0.5),
    )
