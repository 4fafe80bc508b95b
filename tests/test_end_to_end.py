"""The whole DAG, as `econ-monitor run` runs it (what `make demo` runs per month), started as a user starts
it: files → raw → dbt (cosmos) → GX gate → alerts → mail, against a real Postgres and a real SMTP server;
then the same delivery again. Each run is also what a newcomer sees: a short summary and the log file's
path on the terminal, Airflow's, cosmos' and dbt's output in that file; on a failure, the failing task,
its error and the log's path. Each DAG run costs a minute or more, so every run here is asserted on for
all it shows."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXPECTED, SAMPLE, Mailbox, new_database
from tests.support import rows

pytestmark = pytest.mark.slow


def _cli(landing, local_dir, url, mailbox) -> subprocess.CompletedProcess:
    """`econ-monitor run` in its own process, with none of this test process's Airflow settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(
        ECON_LOCAL_DIR=str(local_dir),
        ECON_WAREHOUSE_URL=url,
        ECON_SMTP_HOST="127.0.0.1",
        ECON_SMTP_PORT=str(mailbox.port),
    )
    return subprocess.run(
        [sys.executable, "-m", "econ_monitor.cli", "run", "--landing", str(landing)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _run_cli(landing, local_dir, url, mailbox) -> subprocess.CompletedProcess:
    done = _cli(landing, local_dir, url, mailbox)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done


def _log_path(stdout: str) -> Path:
    match = re.search(r"logs of Airflow, cosmos and dbt: (\S+\.log)", stdout)
    assert match, stdout
    return Path(match.group(1))


@pytest.fixture(scope="module")
def two_runs(server_url, tmp_path_factory):
    from econ_monitor.warehouse import connect

    url = new_database(server_url)
    local = tmp_path_factory.mktemp("e2e-local")
    box = Mailbox()
    box.start()
    try:
        first = _run_cli(SAMPLE, local, url, box)
        after_first = [m for m in box.messages if m["X-Econ-Monitor-Kind"] == "digest"]
        reports_first = [m for m in box.messages if m["X-Econ-Monitor-Kind"] in ("monthly_bulletin", "weekly_dispatch")]
        second = _run_cli(SAMPLE, local, url, box)
    finally:
        box.stop()
    with connect(url) as conn:
        yield {
            "local": local,
            "first_stderr": first.stderr,
            "first": first.stdout,
            "second": second.stdout,
            "mails_first": after_first,
            "reports_first": reports_first,
            "mails_all": list(box.messages),
            "conn": conn,
        }


def test_the_dag_succeeds_and_prints_a_short_summary_and_the_log_path(two_runs):
    out, local = two_runs["first"], two_runs["local"]
    lines = out.splitlines()
    assert len(lines) < 60, out
    assert two_runs["first_stderr"] == ""
    assert re.search(r"^DAG econ_delivery: success in \d+ s \(\d+ tasks: .*\)$", out, re.M), out
    assert "files: 12 loaded, 0 duplicate, 0 quarantined" in lines
    assert "quality gate: passed" in out
    for kind, period in (("monthly_bulletin", "2025-09"), ("weekly_dispatch", "2025-09-26")):
        report = local / "reports" / kind / f"{period}.html"
        assert f"econ_{kind}: success; " in out and f"→ {report} (PDF: {period}.pdf)" in out
        assert report.with_suffix(".pdf").is_file()
    assert "Running with dbt" not in out and "[warning" not in out

    log = _log_path(out)
    assert log.parent == local / "logs" and log.is_file()
    # Airflow's and cosmos' output went to the file, not the terminal (dbt's own output, in cosmos' watcher
    # mode, is kept with each task's result in Airflow's database)
    assert "cosmos" in log.read_text(encoding="utf-8", errors="replace")


def test_warning_levels_in_the_mart_equal_the_expected_ones(two_runs):
    found = dict(
        rows(
            two_runs["conn"],
            "SELECT indicator_code, warning_level FROM marts.mart_indicator_monitoring WHERE year = 2025 AND period_month = 9",
        )
    )
    assert {code: found[code] for code in EXPECTED["indicators"]} == {
        c: e["level"] for c, e in EXPECTED["indicators"].items()
    }
    chains = dict(
        rows(
            two_runs["conn"],
            "SELECT chain_code, warning_level FROM marts.mart_industry_chain_monitoring WHERE period_month = 9",
        )
    )
    assert chains == {c: e["level"] for c, e in EXPECTED["chains"].items()}


def test_each_responsible_leader_got_exactly_one_mail_naming_their_red_items(two_runs):
    mails = two_runs["mails_first"]
    assert sorted(m["To"] for m in mails) == sorted(EXPECTED["recipients"])
    for mail in mails:
        body = Mailbox.text(mail)
        for item in EXPECTED["recipients"][mail["To"]]["red"]:
            assert any(name in body for name in item), (mail["To"], item)


def test_the_monthly_bulletin_and_weekly_dispatch_follow_the_delivery(two_runs):
    assert (
        "econ_monthly_bulletin: success" in two_runs["first"] and "econ_weekly_dispatch: success" in two_runs["first"]
    )
    kinds = sorted({m["X-Econ-Monitor-Kind"] for m in two_runs["reports_first"]})
    assert kinds == ["monthly_bulletin", "weekly_dispatch"]
    # the leadership group: every leader and the dispatch centre, once per report
    assert len(two_runs["reports_first"]) == 2 * 8


def test_the_same_delivery_again_loads_nothing_and_mails_nothing(two_runs):
    assert "no new files in the landing area" in two_runs["second"]
    assert len(two_runs["mails_all"]) == len(two_runs["mails_first"]) + len(two_runs["reports_first"])
    assert rows(two_runs["conn"], "SELECT count(*) FROM raw.project_ledger") == [(161 * 4,)]
    assert rows(two_runs["conn"], "SELECT count(*) FROM monitor.outbox WHERE kind = 'digest'") == [
        (len(EXPECTED["recipients"]),)
    ]


def test_a_failed_run_prints_its_error_and_the_log_path_and_mails_the_data_team(server_url, tmp_path, mailbox):
    landing = tmp_path / "no-such-dir"  # new_files_waiting fails on it, and is not retried
    done = _cli(landing, tmp_path / "local", new_database(server_url), mailbox)

    assert done.returncode == 1
    assert len(done.stdout.splitlines()) < 60, done.stdout
    assert re.search(r"^DAG econ_delivery: failed", done.stdout, re.M), done.stdout
    failed = re.search(r"^  failed: (.+)$", done.stdout, re.M)
    assert failed and "new_files_waiting" in failed.group(1), done.stdout
    assert f"landing directory {landing} does not exist" in done.stdout  # the task's error, from the log
    log = _log_path(done.stdout)
    assert f"  log: {log}" in done.stdout.splitlines() and log.is_file()

    (mail,) = mailbox.to("data-team@jiaozhou.example")
    assert "econ_delivery.new_files_waiting" in mail["Subject"]
    assert "no-such-dir" in Mailbox.text(mail)
    assert not [m for m in mailbox.messages if m["To"] != "data-team@jiaozhou.example"]


def test_a_failed_quality_gate_fails_the_run_after_the_unaffected_alerts_went_out(server_url, tmp_path, mailbox):
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE, landing)
    (landing / "swj" / "商务局_指标报送_202509.csv").unlink()  # 商务局 did not deliver
    done = _cli(landing, tmp_path / "local", new_database(server_url), mailbox)
    assert done.returncode == 1 and "DAG econ_delivery: failed" in done.stdout
    assert "quality gate: failed" in done.stdout and "withheld: indicators/swj" in done.stdout
    assert "  failed: quality_verdict\n" in done.stdout  # the gate, not a crash
    digests = [m for m in mailbox.messages if m["X-Econ-Monitor-Kind"] == "digest"]
    assert sorted(m["To"] for m in digests) == sorted(EXPECTED["recipients"])  # everyone else still warned
    assert "中欧班列开行数" not in Mailbox.text(mailbox.to("commerce-vice-mayor@jiaozhou.example")[0])
    (gate_mail,) = mailbox.to("data-team@jiaozhou.example")
    assert "商务局" in Mailbox.text(gate_mail)
    # reports wait for data that passed the gate
    assert not [m for m in mailbox.messages if m["X-Econ-Monitor-Kind"] in ("monthly_bulletin", "weekly_dispatch")]
