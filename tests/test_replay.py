"""Issue #12's "Done when": fifteen months (2025-01 … 2026-03) of generated deliveries replayed into ONE
growing landing area, the delivery run after each month -- the DAG's own step functions in order, and the
DAG itself (`econ-monitor run`) around the year end -- with leaders claiming and closing through the CLI
between runs and a real SMTP server receiving the mails. The replay is built once; each test reads the
timeline it recorded (events of `monitor.alert_events` and mails, each tagged with the month whose run
made it).

Only time is simulated: before each run, the open episodes' first mail is backdated by a month's worth of
days (a delivery comes a month after the last), so an unclaimed red warning is overdue for escalation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from econ_monitor import pipeline
from econ_monitor.cli import main as cli
from econ_monitor.demo_data import generate
from econ_monitor.transform import build
from tests.conftest import Mailbox, new_database
from tests.support import rows

pytestmark = pytest.mark.slow

MONTHS = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)][:15]
DAG_MONTHS = {"2025-12", "2026-01"}  # the year end runs through Airflow itself
ADJUSTED = (2025, 6)  # 发改局 re-delivers the 2025 targets (年中调整) with June's data


def _run_dag(landing, local, url, port) -> str:
    env = {**os.environ, "ECON_LOCAL_DIR": str(local), "ECON_WAREHOUSE_URL": url,
           "ECON_SMTP_HOST": "127.0.0.1", "ECON_SMTP_PORT": str(port)}
    done = subprocess.run([sys.executable, "-m", "econ_monitor.cli", "run", "--landing", str(landing)],
                          env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout


def _run_steps(landing, url, month) -> dict:
    """The DAG's tasks, in its order, called directly."""
    assert pipeline.detect_delivery(landing)
    loaded = pipeline.ingest_delivery(landing)
    build(url)
    gate = pipeline.quality_gate(f"replay-{month}")
    alerts = pipeline.raise_alerts(gate["withheld_domains"])
    return {"loaded": loaded, "gate": gate, "alerts": alerts, "mail": pipeline.deliver_mail()}


def _act(conn, month: str, record: dict) -> None:
    """Leaders acting between runs, through the CLI. The warnings are chosen by a fixed rule over what the
    generated data produce, so that the replay is deterministic."""
    if month == "2025-02":  # a leader claims, reports back and closes an open yellow indicator warning
        (key, leader) = rows(conn, """SELECT alert_key, leader_code FROM monitor.alerts
                                      WHERE status = 'open' AND level = 'yellow' AND rule_code = 'indicator_off_target'
                                      ORDER BY alert_key LIMIT 1""")[0]
        assert cli(["alerts", "claim", key, "--leader", leader, "--actor", "分管领导", "--note", "已牵头调度"]) == 0
        assert cli(["alerts", "feedback", key, "--leader", leader, "--actor", "分管领导", "--note", "重点企业满产"]) == 0
        assert cli(["alerts", "close", key, "--leader", leader, "--actor", "分管领导", "--note", "措施已落实"]) == 0
        record["closed_by_leader"] = key


@pytest.fixture(scope="module")
def replay(server_url, tmp_path_factory):
    from econ_monitor.warehouse import connect

    base = tmp_path_factory.mktemp("replay")
    generated, landing, local = base / "generated", base / "landing", base / "local"
    generate((2025, 1), (2026, 3), generated, adjust_targets=ADJUSTED)
    url = new_database(server_url)
    box = Mailbox()
    box.start()
    os.environ["ECON_SMTP_HOST"], os.environ["ECON_SMTP_PORT"] = "127.0.0.1", str(box.port)
    record: dict = {"months": {}, "events": [], "mails": [], "seconds": {}}
    started = time.monotonic()
    try:
        with connect(url) as conn:
            for month in MONTHS:
                shutil.copytree(generated / month, landing, dirs_exist_ok=True)
                # a month has passed since the last delivery: open episodes are past ECON_ESCALATION_DAYS
                conn.execute("UPDATE monitor.alerts SET episode_notified_at = episode_notified_at - interval '30 days'"
                             " WHERE status <> 'closed' AND episode_notified_at IS NOT NULL")
                last_event = rows(conn, "SELECT coalesce(max(event_id), 0) FROM monitor.alert_events")[0][0]
                sent = len(box.messages)
                t0 = time.monotonic()
                if month in DAG_MONTHS:
                    record["months"][month] = {"dag": _run_dag(landing, local, url, box.port)}
                else:
                    record["months"][month] = _run_steps(landing, url, month)
                record["seconds"][month] = round(time.monotonic() - t0, 1)
                record["events"] += [(month, *e) for e in rows(
                    conn, """SELECT alert_key, event_type, level, episode, actor, note FROM monitor.alert_events
                             WHERE event_id > %s ORDER BY event_id""", (last_event,))]
                record["mails"] += [(month, m) for m in box.messages[sent:]]
                _act(conn, month, record)
            record["seconds"]["total"] = round(time.monotonic() - started, 1)
            record["conn"] = conn
            yield record
    finally:
        box.stop()
        os.environ.pop("ECON_SMTP_HOST", None)
        os.environ.pop("ECON_SMTP_PORT", None)


def test_dump(replay):
    print("SECONDS", replay["seconds"])
    for month, key, event, level, episode, actor, note in replay["events"]:
        if event not in ("notified",) and not key.startswith(("project", "issue", "enterprise")):
            print("EV", month, key, event, level, episode, actor or "", note or "")
    for month, m in replay["mails"]:
        print("MAIL", month, m["X-Econ-Monitor-Kind"], m["To"], m["Subject"])
    print("LEADER", replay.get("closed_by_leader"))
