"""Issue #12's "Done when": eleven monthly deliveries (2025-01 … 2025-10 without July, then 2026-01 and
2026-02) of generated data replayed into ONE growing landing area, the delivery run after each month -- the
DAG's own step functions in order, and the DAG itself (`econ-monitor run`) for the year end's first month --
with leaders claiming and closing through the CLI between runs and a real SMTP server receiving the mails.
The replay is built once; each test reads the timeline it recorded (events of `monitor.alert_events` and
mails, each tagged with the month whose run made it).

Months that change nothing the tests follow are not replayed (each costs a `dbt build` and a quality
gate): July (demo_data.STORY's warning stays green between its two episodes), and November, December and
March 2026 (the year end happens as each report of 2026 arrives, in January and February). A skipped month
is a department's delivery that never came; the quality gate judges completeness on the newest period.

Only time is simulated: before each run, the open episodes' first mail is backdated by a month's worth of
days (a delivery comes a month after the last), so an unclaimed red warning is overdue for escalation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
from psycopg.rows import dict_row

from econ_monitor import pipeline
from econ_monitor.cli import main as cli
from econ_monitor.transform import build
from econ_monitor.wording import describe
from econ_monitor_demo import generate
from tests.conftest import Mailbox, new_database
from tests.support import rows

pytestmark = pytest.mark.slow

MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-08", "2025-09", "2025-10"]
MONTHS += ["2026-01", "2026-02"]
LAST_OF_2025 = "2025-10"
# The year end's first month runs through Airflow itself; the other months call the DAG's step functions,
# which is all the DAG's tasks do (its other runs are tests/test_end_to_end.py's).
DAG_MONTHS = {"2026-01"}
ADJUSTED = (2025, 6)  # 发改局 re-delivers the 2025 targets (年中调整) with June's data


def _run_dag(landing, local, url, port) -> str:
    env = {
        **os.environ,
        "ECON_LOCAL_DIR": str(local),
        "ECON_WAREHOUSE_URL": url,
        "ECON_SMTP_HOST": "127.0.0.1",
        "ECON_SMTP_PORT": str(port),
    }
    done = subprocess.run(
        [sys.executable, "-m", "econ_monitor.cli", "run", "--landing", str(landing)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
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


LEADER_CLOSED = "indicator_off_target:tech_smes:2025"  # 科技型中小企业: yellow from January, red from April
STORY = "indicator_off_target:industrial_va:2025"  # demo_data.STORY: yellow, red, better, worse, green, red


def _act(conn, month: str) -> None:
    """Leaders acting between runs, through the CLI."""
    if month == "2025-01":  # the leader claims, reports back and closes a yellow warning
        ((leader,),) = rows(conn, "SELECT leader_code FROM monitor.alerts WHERE alert_key = %s", (LEADER_CLOSED,))
        for action, note in (("claim", "已牵头调度"), ("feedback", "新认定一批企业"), ("close", "措施已落实")):
            assert (
                cli(["alerts", action, LEADER_CLOSED, "--leader", leader, "--actor", "分管领导", "--note", note]) == 0
            )


@pytest.fixture(scope="module")
def replay(server_url, tmp_path_factory):
    from econ_monitor.warehouse import connect

    base = tmp_path_factory.mktemp("replay")
    generated, landing, local = base / "generated", base / "landing", base / "local"
    generate((2025, 1), (2026, 2), generated, adjust_targets=ADJUSTED)
    url = new_database(server_url)
    box = Mailbox()
    box.start()
    os.environ["ECON_SMTP_HOST"], os.environ["ECON_SMTP_PORT"] = "127.0.0.1", str(box.port)
    record: dict = {"months": {}, "events": [], "mails": [], "mart": {}, "seconds": {}}
    started = time.monotonic()
    try:
        with connect(url) as conn:
            for month in MONTHS:
                shutil.copytree(generated / month, landing, dirs_exist_ok=True)
                # a month has passed since the last delivery: open episodes are past ECON_ESCALATION_DAYS
                conn.execute(
                    "UPDATE monitor.alerts SET episode_notified_at = episode_notified_at - interval '30 days'"
                    " WHERE status <> 'closed' AND episode_notified_at IS NOT NULL"
                )
                last_event = rows(conn, "SELECT coalesce(max(event_id), 0) FROM monitor.alert_events")[0][0]
                sent = len(box.messages)
                t0 = time.monotonic()
                if month in DAG_MONTHS:
                    record["months"][month] = {"dag": _run_dag(landing, local, url, box.port)}
                else:
                    record["months"][month] = _run_steps(landing, url, month)
                record["seconds"][month] = round(time.monotonic() - t0, 1)
                _act(conn, month)
                record["events"] += [
                    (month, *e)
                    for e in rows(
                        conn,
                        """SELECT alert_key, event_type, level, episode, actor, note FROM monitor.alert_events
                             WHERE event_id > %s ORDER BY event_id""",
                        (last_event,),
                    )
                ]
                record["mails"] += [(month, m) for m in box.messages[sent:]]
                with conn.cursor(row_factory=dict_row) as cur:
                    record["mart"][month] = {
                        row["alert_key"]: row for row in cur.execute("SELECT * FROM marts.mart_current_warnings")
                    }
            record["seconds"]["total"] = round(time.monotonic() - started, 1)
            record["conn"] = conn
            yield record
    finally:
        box.stop()
        os.environ.pop("ECON_SMTP_HOST", None)
        os.environ.pop("ECON_SMTP_PORT", None)


INDUSTRY = "industry-vice-mayor@jiaozhou.example"  # L03: 规模以上工业增加值
EXEC = "exec-vice-mayor@jiaozhou.example"  # L02: escalations of L03's and L05's warnings
DIGEST_KINDS = ("digest", "escalation")
TARGET_RULES = ["indicator_off_target", "chain_output_behind", "project_count_behind"]


def _timeline(replay, key: str) -> list[tuple]:
    """(month, event, level, episode) of a warning, the `notified` bookkeeping left out."""
    return [
        (month, event, level, episode)
        for month, k, event, level, episode, _, _ in replay["events"]
        if k == key and event != "notified"
    ]


def _mailed(replay, key: str, name: str, kind: str = "digest") -> list[tuple[str, str]]:
    """(month, recipient) of every mail of that kind naming the warning's entity."""
    year = key.rsplit(":", 1)[1]  # the next year's warning of the same indicator is another key
    return [
        (month, m["To"])
        for month, m in replay["mails"]
        if month.startswith(year) and m["X-Econ-Monitor-Kind"] == kind and name in Mailbox.text(m)
    ]


def test_improve_then_worsen_is_mailed_again_and_recovery_then_a_new_episode(replay):
    assert _timeline(replay, STORY) == [
        ("2025-02", "opened", "yellow", 1),
        ("2025-03", "worsened", "red", 1),
        ("2025-03", "escalated", "red", 1),
        ("2025-04", "improved", "yellow", 1),  # better: not mailed
        ("2025-05", "worsened", "red", 1),  # worse again: mailed again, not escalated again
        ("2025-06", "resolved_by_data", "green", 1),  # recovered: closed by the data, not mailed (July: green)
        ("2025-08", "reopened", "red", 2),  # a new episode, told to its leader first
        ("2025-09", "escalated", "red", 2),  # ... and escalated once, a delivery later
        ("2025-10", "resolved_by_data", "green", 2),
    ]
    assert _mailed(replay, STORY, "规模以上工业增加值") == [
        ("2025-02", INDUSTRY),
        ("2025-03", INDUSTRY),
        ("2025-05", INDUSTRY),
        ("2025-08", INDUSTRY),
    ]
    assert _mailed(replay, STORY, "规模以上工业增加值", "escalation") == [("2025-03", EXEC), ("2025-09", EXEC)]


def test_every_mailed_figure_is_the_marts_of_that_month(replay):
    """For the story's warning each month it was mailed, and for every warning mailed in the replay: the
    digest line (measure, target, deviation, gap, pace) is describe() of the mart row of that run."""
    checked = set()
    for month, message in replay["mails"]:
        if message["X-Econ-Monitor-Kind"] != "digest":
            continue
        body = Mailbox.text(message)
        for key, row in replay["mart"][month].items():
            if row["level"] not in ("yellow", "red"):
                continue
            line, gap = describe(row)
            if row["entity_name"] in body and line in body:
                assert gap is None or gap in body, (month, key, gap)
                checked.add((month, key))
    assert {m for m, k in checked if k == STORY} == {"2025-02", "2025-03", "2025-05", "2025-08"}
    assert {k.split(":")[0] for _, k in checked} >= {"indicator_off_target", "chain_output_behind"}, checked


def test_a_leaders_close_holds_until_worse(replay):
    assert _timeline(replay, LEADER_CLOSED)[:5] == [
        ("2025-01", "opened", "yellow", 1),
        ("2025-01", "claimed", "yellow", 1),
        ("2025-01", "feedback", "yellow", 1),
        ("2025-01", "closed", "yellow", 1),
        ("2025-04", "reopened", "red", 2),
    ]  # yellow in Feb and March: the close held, nothing mailed
    notes = [(event, actor, note) for _, k, event, _, _, actor, note in replay["events"] if k == LEADER_CLOSED and note]
    assert notes == [
        ("claimed", "分管领导", "已牵头调度"),
        ("feedback", "分管领导", "新认定一批企业"),
        ("closed", "分管领导", "措施已落实"),
    ]
    name = replay["mart"]["2025-04"][LEADER_CLOSED]["entity_name"]
    assert [month for month, _ in _mailed(replay, LEADER_CLOSED, name)] == ["2025-01", "2025-04"]


def test_escalation_is_once_per_episode(replay):
    escalated = [(k, episode) for _, k, event, _, episode, _, _ in replay["events"] if event == "escalated"]
    assert escalated and len(escalated) == len(set(escalated))


def test_the_year_end_closes_last_years_warnings_without_mail(replay):
    ended = {k: month for month, k, event, *_ in replay["events"] if event == "year_ended"}
    assert ended and all(k.endswith(":2025") for k in ended)
    assert set(ended.values()) <= {"2026-01", "2026-02"}  # as each report of 2026 arrives
    assert (
        "indicator_off_target:airport_cargo:2025" in ended and ended["chain_output_behind:green_food:2025"] == "2026-02"
    )
    # No mail of 2026 says anything of 2025's warnings: not ended, not recovered.
    for month, message in replay["mails"]:
        if month >= "2026-01" and message["X-Econ-Monitor-Kind"] in DIGEST_KINDS:
            assert "2025年" not in Mailbox.text(message), (month, message["Subject"])


def test_2026_is_judged_against_the_delivered_2026_targets(replay):
    mart = replay["mart"]["2026-02"]
    chain = mart["chain_output_behind:smart_appliances:2026"]
    last_of_2025 = replay["mart"][LAST_OF_2025]
    assert chain["target_value"] != last_of_2025["chain_output_behind:smart_appliances:2025"]["target_value"]
    for key, row in mart.items():
        if key.endswith(":2026") and row["rule_code"] in TARGET_RULES:
            assert row["target_source"].startswith("fgj/胶州市2026年经济运行主要目标任务表.xlsx"), (
                key,
                row["target_source"],
            )


def test_a_mid_year_target_adjustment_changes_a_level(replay):
    key = "indicator_off_target:digital_core_va:2025"
    assert ("2025-06", "improved", "yellow", 1) in _timeline(replay, key)
    assert "年中调整" in replay["mart"]["2025-06"][key]["target_source"]
    assert "年中调整" not in replay["mart"]["2025-05"][key]["target_source"]
    assert replay["mart"]["2025-06"][key]["target_value"] < replay["mart"]["2025-05"][key]["target_value"]


def test_the_dag_ran_the_year_end_months(replay):
    for month in DAG_MONTHS:
        assert "DAG econ_delivery: success" in replay["months"][month]["dag"]
    print("replay seconds per month:", replay["seconds"])


DATA_TEAM = "data-team@jiaozhou.example"


def test_a_year_delivered_without_its_target_file_is_no_target_with_one_dt0_mail_per_sheet(
    server_url, tmp_path, mailbox
):
    """`demo-data --omit-targets 2026`: 发改局 never delivers the 2026 file. Two monthly deliveries: every
    measure needing a target is no_target, no leader is warned on a target rule, and the data team gets one
    mail per missing sheet, once."""
    from econ_monitor.warehouse import connect

    generated, landing = tmp_path / "generated", tmp_path / "landing"
    assert (
        cli(["demo-data", "--from", "2026-01", "--to", "2026-02", "--out", str(generated), "--omit-targets", "2026"])
        == 0
    )
    assert not list(generated.rglob("*目标任务表*"))
    url = new_database(server_url)
    with connect(url) as conn:
        for month in ("2026-01", "2026-02"):
            shutil.copytree(generated / month, landing, dirs_exist_ok=True)
            _run_steps(landing, url, month)
        levels = set(
            rows(
                conn,
                """SELECT warning_level FROM marts.mart_indicator_monitoring WHERE year = 2026
                                   UNION SELECT warning_level FROM marts.mart_industry_chain_monitoring WHERE year = 2026""",
            )
        )
        assert levels == {("no_target",)}
        assert rows(conn, "SELECT count(*) FROM monitor.alerts WHERE rule_code = ANY(%s)", (TARGET_RULES,)) == [(0,)]
    # (the gate's own mail to the data team is not asserted here: see the report of issue #12's replay)
    subjects = sorted(m["Subject"] for m in mailbox.to(DATA_TEAM) if "目标未报送" in m["Subject"])
    assert subjects == sorted(f"【目标未报送】2026年{sheet}未报送" for sheet in ("指标目标", "产业链目标", "招商目标"))
    assert not [
        m for m in mailbox.messages if m["To"] != DATA_TEAM and "目标" in m["Subject"] and "未报送" in m["Subject"]
    ]
