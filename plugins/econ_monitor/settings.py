"""Configuration from the environment, in one place.

Every endpoint and secret is an environment variable (the README lists them); nothing secret lives in
the repository. Defaults describe the embedded single-machine set-up that `make demo` uses.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

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


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    warehouse_url: str | None
    local_dir: Path
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_starttls: bool
    mail_from: str
    link_secret: str | None
    link_base_url: str
    link_ttl_days: int
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
    return Settings(
        warehouse_url=warehouse,
        local_dir=local_dir,
        smtp_host=os.environ.get("ECON_SMTP_HOST") or None,
        smtp_port=int(os.environ.get("ECON_SMTP_PORT", "25")),
        smtp_user=os.environ.get("ECON_SMTP_USER") or None,
        smtp_password=os.environ.get("ECON_SMTP_PASSWORD") or None,
        smtp_starttls=_flag("ECON_SMTP_STARTTLS", False),
        mail_from=os.environ.get("ECON_MAIL_FROM", "econ-monitor@jiaozhou.example"),
        link_secret=link_secret,
        link_base_url=os.environ.get("ECON_LINK_BASE_URL", "http://localhost:8080/econ-monitor"),
        link_ttl_days=int(os.environ.get("ECON_LINK_TTL_DAYS", "14")),
        escalation_days=int(os.environ.get("ECON_ESCALATION_DAYS", "3")),
    )


def apply_offline_defaults() -> None:
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
