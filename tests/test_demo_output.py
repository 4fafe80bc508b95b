"""What a newcomer sees: `econ-monitor run` (what `make demo` runs per month), started as a user starts it,
prints a short summary and the log file's path; Airflow's, cosmos' and dbt's output is in that file. On a
failure it prints the failing task, its error and the log's path."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLE, new_database

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "econ_monitor.cli"]


def _run_cli(landing: Path, local_dir: Path, warehouse_url: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "ECON_SMTP"))}
    env.update(ECON_LOCAL_DIR=str(local_dir), ECON_WAREHOUSE_URL=warehouse_url)
    return subprocess.run(
        [*CLI, "run", "--landing", str(landing)], env=env, capture_output=True, text=True, timeout=1800
    )


def _log_path(stdout: str) -> Path:
    match = re.search(r"logs of Airflow, cosmos and dbt: (\S+\.log)", stdout)
    assert match, stdout
    return Path(match.group(1))


def test_a_successful_run_prints_a_short_summary_and_the_log_path(server_url, tmp_path):
    # The sample delivery (12 files): a smaller one fails the quality gate's completeness checks, and the
    # two report DAGs it starts are part of what the demo prints.
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE, landing)
    done = _run_cli(landing, tmp_path / "local", new_database(server_url))

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) < 60, done.stdout
    assert done.stderr == ""
    assert re.search(r"^DAG econ_delivery: success in \d+ s \(\d+ tasks: .*\)$", done.stdout, re.M), done.stdout
    assert "files: 12 loaded, 0 duplicate, 0 quarantined" in lines
    assert "quality gate: passed" in done.stdout
    for kind, period in (("monthly_bulletin", "2025-09"), ("weekly_dispatch", "2025-09-26")):
        report = tmp_path / "local" / "reports" / kind / f"{period}.html"
        assert f"econ_{kind}: success; " in done.stdout and f"→ {report} (PDF: {period}.pdf)" in done.stdout
        assert report.with_suffix(".pdf").is_file()
    assert "Running with dbt" not in done.stdout and "[warning" not in done.stdout

    log = _log_path(done.stdout)
    assert log.parent == tmp_path / "local" / "logs" and log.is_file()
    written = log.read_text(encoding="utf-8", errors="replace")
    # Airflow's and cosmos' output went to the file, not the terminal (dbt's own output, in cosmos' watcher
    # mode, is kept with each task's result in Airflow's database)
    assert "cosmos" in written


def test_a_failing_task_prints_its_error_and_the_log_path(server_url, tmp_path):
    landing = tmp_path / "no-such-landing"  # new_files_waiting fails on it, and is not retried
    done = _run_cli(landing, tmp_path / "local", new_database(server_url))

    assert done.returncode == 1
    assert len(done.stdout.splitlines()) < 60, done.stdout
    assert re.search(r"^DAG econ_delivery: failed", done.stdout, re.M), done.stdout
    failed = re.search(r"^  failed: (.+)$", done.stdout, re.M)
    assert failed and "new_files_waiting" in failed.group(1), done.stdout
    assert f"landing directory {landing} does not exist" in done.stdout  # the task's error, from the log
    log = _log_path(done.stdout)
    assert f"  log: {log}" in done.stdout.splitlines() and log.is_file()
