"""DAG integrity: every DAG file imports without errors or cycles, quickly, and without touching a
database; owners, tags, retries and schedules are as documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from econ_monitor.settings import PROJECT_DIR

PROBE = r"""
import json, time, os, sys
from pathlib import Path
started = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - started
HEAVY = ("great_expectations", "matplotlib", "openpyxl", "econ_monitor.pipeline", "econ_monitor.reports",
         "econ_monitor.quality.gate", "dbt.cli.main")
report = {"import_errors": bag.import_errors, "seconds": elapsed, "dags": {},
          "heavy_modules": sorted(name for name in HEAVY if name in sys.modules)}
for dag_id, dag in bag.dags.items():
    report["dags"][dag_id] = {
        "file": Path(dag.fileloc).name,
        "owners": sorted({task.owner for task in dag.tasks}),
        "tags": sorted(dag.tags),
        "schedule": str(dag.schedule),
        "retries": {task.task_id: task.retries for task in dag.tasks},
        "backoff": {task.task_id: task.retry_exponential_backoff for task in dag.tasks},
        "timeouts": {task.task_id: bool(task.execution_timeout) for task in dag.tasks},
        "tasks": len(dag.tasks),
        "kinds": {task.task_id: type(task).__name__ for task in dag.tasks},
        "upstream": {task.task_id: sorted(task.upstream_task_ids) for task in dag.tasks},
    }
print("REPORT" + json.dumps(report))
"""


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> dict:
    local = tmp_path_factory.mktemp("parse-only")
    env = {
        **os.environ,
        "ECON_LOCAL_DIR": str(local),
        # A warehouse that does not exist: parsing must not try to reach it.
        "ECON_WAREHOUSE_URL": "postgresql://nobody:secret@/nowhere?host=/nonexistent-socket-dir",
        "AIRFLOW_HOME": str(local / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{local / 'never-created.db'}",
        "AIRFLOW__COSMOS__CACHE_DIR": str(local / "cosmos"),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(PROJECT_DIR / "dags")], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("REPORT"))
    report = json.loads(line[len("REPORT") :])
    report["local"] = local
    return report


def test_every_dag_file_imports_without_errors(parsed):
    assert parsed["import_errors"] == {}
    dag_files = {p.name for p in (PROJECT_DIR / "dags").glob("*.py")}
    assert {d["file"] for d in parsed["dags"].values()} == dag_files


def test_parsing_imports_nothing_heavy(parsed):
    # GX, matplotlib, openpyxl and the pipeline are imported inside tasks, never when a DAG file is parsed.
    assert parsed["heavy_modules"] == []


def test_parsing_touches_no_database(parsed):
    local: Path = parsed["local"]
    assert not (local / "pgdata").exists()
    assert not (local / "never-created.db").exists()


def test_delivery_dag_shape(parsed):
    dag = parsed["dags"]["econ_delivery"]
    assert dag["owners"] == ["data-team"]
    assert "econ-monitor" in dag["tags"]
    # the poll is one task: it prepares the warehouse and stops the run when nothing is new
    assert dag["upstream"]["new_files_waiting"] == []
    assert dag["retries"]["new_files_waiting"] == 0  # the next scheduled run is the retry
    assert dag["retries"]["ingest"] >= 1  # a broken file is quarantined, not failed: failures are infrastructure
    assert dag["retries"]["deliver_mail"] >= 1  # an SMTP outage is worth retrying
    assert all(dag["timeouts"].values())
    # cosmos shows one task per seed and model
    assert dag["tasks"] > 30


def test_dbt_builds_once_and_each_model_keeps_its_task(parsed):
    dag = parsed["dags"]["econ_delivery"]
    kinds, upstream = dag["kinds"], dag["upstream"]
    producer = "dbt_build.dbt_producer_watcher"
    # one `dbt build` for the whole project ...
    assert [task for task, kind in kinds.items() if kind == "DbtProducerWatcherOperator"] == [producer]
    assert upstream[producer] == ["ingest"]
    assert dag["retries"][producer] == 0  # a failed model is retried by its own task, not a second build
    # ... and a task per seed and model, which also covers its tests, retrying that node alone; no task
    # of its own for a node's tests
    assert kinds["dbt_build.mart_indicator_monitoring_run"] == "DbtRunWatcherOperator"
    assert kinds["dbt_build.warning_rules_seed"] == "DbtSeedWatcherOperator"
    assert "DbtTestWatcherOperator" not in kinds.values()
    assert "dbt_build.int_indicator_reported_values_run" in upstream["dbt_build.mart_indicator_monitoring_run"]
    assert dag["retries"]["dbt_build.mart_indicator_monitoring_run"] >= 1

    def ancestors(task_id: str) -> set[str]:
        found = set(upstream[task_id])
        for parent in upstream[task_id]:
            found |= ancestors(parent)
        return found

    # every node task reads its outcome after the build ended, none waits alongside it
    node_tasks = [task for task, kind in kinds.items() if kind.endswith("WatcherOperator") and task != producer]
    assert len(node_tasks) > 30
    assert all(producer in ancestors(task) for task in node_tasks)
    assert {"dbt_build.dbt_producer_watcher_done", "dbt_build.mart_current_warnings_run"} <= set(
        upstream["quality_gate"]
    )


def test_retries_back_off(parsed):
    """Each retry waits longer than the last (a database or mail server that is away for a while is not
    hammered). Airflow 3.3 reads `retry_exponential_backoff` as the multiplier: `True` is 1, a constant delay."""
    for dag_id, dag in parsed["dags"].items():
        retried = [task for task, retries in dag["retries"].items() if retries]
        assert retried, dag_id
        assert all(dag["backoff"][task] >= 2 for task in retried), (dag_id, dag["backoff"])


def test_dag_parse_time_is_reported(parsed, capsys):
    with capsys.disabled():
        print(f"\n[benchmark] DagBag parse of dags/: {parsed['seconds']:.2f} s")


def test_every_dag_is_owned_tagged_and_time_limited(parsed):
    assert set(parsed["dags"]) == {"econ_delivery", "econ_weekly_dispatch", "econ_monthly_bulletin"}
    for dag_id, dag in parsed["dags"].items():
        assert dag["owners"] == ["data-team"], dag_id
        assert "econ-monitor" in dag["tags"], dag_id
        assert all(dag["timeouts"].values()), dag_id


def test_schedules_are_as_documented(parsed):
    schedules = {dag_id: dag["schedule"] for dag_id, dag in parsed["dags"].items()}
    # the delivery polls the landing area; the reports follow the delivery's asset events
    assert schedules["econ_delivery"] == "*/10 * * * *"
    assert "asset" in schedules["econ_weekly_dispatch"].lower()
    assert "asset" in schedules["econ_monthly_bulletin"].lower()
