"""Real parts only: an embedded PostgreSQL per test session (a fresh database per test that asks for
one), a real aiosmtpd server receiving the mails, and real files.

Tests run in parallel (pytest-xdist, `-n auto --dist loadfile`; see pyproject.toml): each worker is its own
process that imports this file, so it gets its own session directory, hence its own embedded Postgres,
Airflow SQLite DB, outbox and dbt artifacts. A test file runs whole on one worker, so a module fixture
(`sample_warehouse`, an end-to-end run) is built once. Each worker migrates and builds the sample once, into
templates its test databases are copied from (see new_database)."""

from __future__ import annotations

import email
import itertools
import json
import os
import secrets
import shutil
import tempfile
from email import policy
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

SESSION_DIR = Path(tempfile.mkdtemp(prefix="econ-tests-"))
# Everything the platform writes during tests goes below the session directory, never into the repo.
os.environ["ECON_LOCAL_DIR"] = str(SESSION_DIR / "local")
os.environ["ECON_LINK_SECRET"] = secrets.token_urlsafe(32)  # per session, as a deployment would set one
# Tests load files they have just written; tests/test_landing.py checks the settle interval itself.
os.environ["ECON_FILE_SETTLE_SECONDS"] = "0"
os.environ.pop("ECON_WAREHOUSE_URL", None)
os.environ.pop("ECON_SMTP_HOST", None)
# dbt writes its manifest, partial-parse cache and logs under the project by default: workers running dbt
# at once would overwrite dbt_project/target/manifest.json while another worker's cosmos reads it. (Each
# test database then gets its own target path below this one: see new_database.)
os.environ["DBT_TARGET_PATH"] = str(SESSION_DIR / "dbt-target")
os.environ["DBT_LOG_PATH"] = str(SESSION_DIR / "dbt-logs")
# ... which the session removes at its end: dbt's debug-level log file (~1 MB per build of the sample) would
# be written for nobody, at ~12 % of a build's CPU. A failed build is raised with its nodes' messages
# (transform.run_dbt); cosmos reads dbt's output, not the file.
os.environ["DBT_LOG_LEVEL_FILE"] = "none"

from econ_monitor.settings import PROJECT_DIR, apply_offline_defaults  # noqa: E402

apply_offline_defaults()

SAMPLE = PROJECT_DIR / "demo_data" / "2025-09"
EXPECTED = json.loads((PROJECT_DIR / "tests" / "fixtures" / "2025-09.expected.json").read_text(encoding="utf-8"))
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def server_url() -> str:
    from econ_monitor.warehouse import warehouse_url

    return warehouse_url()


# Databases are copies of two templates each worker makes once, on first use: the migrated schema, and the
# sample delivery loaded and built (the most common starting point; building it costs a dbt build). The
# copy is a real, independent database; what the platform keeps outside it (quarantine, outbox) lives under
# the session directory either way.
MIGRATED = "template_migrated"
SAMPLE_BUILT = "template_sample_built"
# The fixtures' databases keep one name each and are dropped and made again: the database's name is part of
# dbt's profile, and a new name makes dbt parse the whole project again instead of reusing its partial parse.
TEST_DATABASE = "test_warehouse"
MODULE_DATABASE = "test_module_warehouse"
_templates: set[str] = set()


def _database_url(server_url: str, name: str) -> str:
    return server_url.replace("/econ?", f"/{name}?")


def _copy_database(server_url: str, name: str, template: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    return _database_url(server_url, name)


def _template(server_url: str, name: str, build_as: str) -> str:
    """The template `name`, made on first use. It is made under the name of the database about to be copied
    from it (`build_as`) and renamed: dbt's partial parse of the build then holds for that copy. Sealed
    afterwards (no connections allowed, the builders' sessions ended): Postgres refuses to copy a database
    anyone is connected to."""
    if name in _templates:
        return name
    from econ_monitor.schema import migrate
    from econ_monitor.warehouse import connect

    if name == MIGRATED:
        build_as = name
        migrate(_copy_database(server_url, name, "template1"))  # template1: what CREATE DATABASE copies by default
    else:
        from tests.support import load_and_build

        url = _make_warehouse(_copy_database(server_url, build_as, _template(server_url, MIGRATED, MIGRATED)), build_as)
        with connect(url) as conn:
            load_and_build(conn, url, SAMPLE)
    with psycopg.connect(server_url, autocommit=True) as conn:
        built = sql.Identifier(build_as)
        conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(built))
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (build_as,))
        if build_as != name:
            conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(built, sql.Identifier(name)))
        conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true").format(sql.Identifier(name)))
    _templates.add(name)
    return name


def _make_warehouse(url: str, name: str) -> str:
    """Make the database `name` at `url` the platform's warehouse and dbt's target."""
    from econ_monitor.warehouse import export_dbt_env

    export_dbt_env(url)
    os.environ["ECON_WAREHOUSE_URL"] = url
    # dbt's partial parse (in its target path) is valid for one database name: one target path per name.
    os.environ["DBT_TARGET_PATH"] = str(SESSION_DIR / "dbt-target" / name)
    return url


def new_database(server_url: str, name: str | None = None, template: str = MIGRATED) -> str:
    """A new database on the session's server, a copy of `template` (MIGRATED, or SAMPLE_BUILT), made the
    platform's warehouse; its URL. A `name` given is dropped first; without one, the name is new."""
    name = name or f"test_{os.getpid()}_{next(_database_numbers)}"
    return _make_warehouse(_copy_database(server_url, name, _template(server_url, template, name)), name)


@pytest.fixture
def warehouse(request, server_url: str) -> str:
    """A fresh migrated database; for a test marked `sample_built`, one holding the sample delivery loaded
    and the marts built."""
    template = SAMPLE_BUILT if request.node.get_closest_marker("sample_built") else MIGRATED
    yield new_database(server_url, TEST_DATABASE, template)
    os.environ.pop("ECON_WAREHOUSE_URL", None)


@pytest.fixture
def conn(warehouse: str):
    from econ_monitor.warehouse import connect

    with connect(warehouse) as connection:
        yield connection


@pytest.fixture(scope="module")
def sample_warehouse(server_url: str):
    """One database per test module with the sample delivery loaded and the marts built: (url, connection)."""
    from econ_monitor.warehouse import connect

    url = new_database(server_url, MODULE_DATABASE, SAMPLE_BUILT)
    with connect(url) as connection:
        yield url, connection
    os.environ.pop("ECON_WAREHOUSE_URL", None)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    """A writable copy of the sample delivery."""
    target = tmp_path / "landing"
    shutil.copytree(SAMPLE, target)
    return target


class Mailbox:
    """A real SMTP server on localhost that keeps what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        from econ_monitor.mailsink import free_port

        self.messages: list[email.message.EmailMessage] = []
        self.port = free_port()
        self._controller_class = Controller
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(
            email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        )
        return "250 OK"

    def start(self) -> None:
        self.controller = self._controller_class(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def text(message) -> str:
        return message.get_body(("plain",)).get_content()

    @staticmethod
    def html(message) -> str:
        return message.get_body(("html",)).get_content()


@pytest.fixture
def mailbox():
    box = Mailbox()
    box.start()
    os.environ["ECON_SMTP_HOST"], os.environ["ECON_SMTP_PORT"] = "127.0.0.1", str(box.port)
    yield box
    box.stop()
    os.environ.pop("ECON_SMTP_HOST", None)
    os.environ.pop("ECON_SMTP_PORT", None)


# The longest files, longest first (measured: the cluster ~5 min, the replay ~4, the end-to-end runs ~3).
LONGEST_FILES = ("test_cluster.py", "test_replay.py", "test_end_to_end.py")


def pytest_collection_modifyitems(config, items):
    """The longest files first, then the other end-to-end (`slow`) ones: xdist hands out files in this order
    (the Makefile turns off its own reordering, by number of tests, which put the cluster test last), so the
    longest start at once instead of one of them being left for the end."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}

    def rank(item) -> tuple[int, int]:
        name = item.path.name
        return (LONGEST_FILES.index(name) if name in LONGEST_FILES else len(LONGEST_FILES), item.path not in slow_files)

    items.sort(key=rank)


def pytest_sessionfinish(session, exitstatus):
    from econ_monitor.warehouse import stop_embedded

    stop_embedded()
    shutil.rmtree(SESSION_DIR, ignore_errors=True)
