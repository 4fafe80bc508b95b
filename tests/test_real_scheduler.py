"""The real thing: Airflow's api-server, scheduler and dag-processor (LocalExecutor, Postgres metadata
DB) pick up a delivery dropped into the landing area and run the chain to the leaders' mail, with no
manual trigger."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from econ_monitor.mailsink import free_port
from econ_monitor.settings import PROJECT_DIR
from tests.conftest import EXPECTED, SAMPLE, new_database
from tests.support import rows

pytestmark = pytest.mark.slow

AIRFLOW = [sys.executable, "-m", "airflow"]
DEADLINE_SECONDS = 900


def _metadata_url(server_url: str, tmp_name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(tmp_name)))
    socket_dir = server_url.split("host=", 1)[1]
    return f"postgresql+psycopg2://postgres@localhost/{tmp_name}?host={socket_dir}"


@pytest.fixture
def airflow_cluster(server_url, tmp_path, mailbox):
    warehouse = new_database(server_url)
    landing = tmp_path / "landing"
    landing.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_DIR / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _metadata_url(server_url, f"airflow_meta_{os.getpid()}"),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__COSMOS__CACHE_DIR": str(tmp_path / "cosmos"),
        "ECON_LOCAL_DIR": str(tmp_path / "local"),
        "ECON_WAREHOUSE_URL": warehouse,
        "ECON_LANDING_DIR": str(landing),
        "ECON_DELIVERY_SCHEDULE": "* * * * *",
        "ECON_SMTP_HOST": "127.0.0.1",
        "ECON_SMTP_PORT": str(mailbox.port),
    }
    subprocess.run([*AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    logs = tmp_path / "logs"
    logs.mkdir()
    # Each component in its own process group, so that stopping it also stops what it started
    # (the scheduler's log server, the executor's workers).
    processes = [
        subprocess.Popen([*AIRFLOW, command], env=env, stdout=(logs / f"{command}.log").open("w"),
                         stderr=subprocess.STDOUT, start_new_session=True)
        for command in ("api-server", "scheduler", "dag-processor")
    ]
    try:
        yield {"landing": landing, "warehouse": warehouse, "env": env, "logs": logs}
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _log_tail(logs: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(logs.glob("*.log")))


def test_a_dropped_delivery_runs_to_the_alerts_without_a_manual_trigger(airflow_cluster, mailbox):
    from econ_monitor.warehouse import connect

    # The department drops its files; nobody triggers anything.
    shutil.copytree(SAMPLE, airflow_cluster["landing"], dirs_exist_ok=True)
    deadline = time.monotonic() + DEADLINE_SECONDS
    with connect(airflow_cluster["warehouse"]) as conn:
        def digests():
            return [m for m in mailbox.messages if m["X-Econ-Monitor-Kind"] == "digest"]

        while time.monotonic() < deadline and len(digests()) < len(EXPECTED["recipients"]):
            time.sleep(5)
        assert len(digests()) >= len(EXPECTED["recipients"]), _log_tail(airflow_cluster["logs"])
        leaders = sorted(m["To"] for m in digests())
        assert leaders == sorted(EXPECTED["recipients"])
        assert rows(conn, "SELECT count(*) FROM raw.load_audit WHERE status = 'loaded'") == [(12,)]
