"""What does orchestration cost? The sample delivery through the DAG against the same steps called directly.

    .venv/bin/python benchmarks/delivery.py               # (c) direct, (a) in-process DAG, no-change polls
    .venv/bin/python benchmarks/delivery.py --scheduler   # also (b): a real scheduler (LocalExecutor)

One embedded warehouse in a temporary directory (never the checkout's `.local/`), one fresh database per
case, one local SMTP sink, the sample delivery of 2025-09, reports included:

- (c) the steps called directly, as a script would: prepare_warehouse, ingest, `dbt build`, quality gate,
  alerts, mail, the monthly bulletin and the weekly dispatch;
- (a) the `econ_delivery` DAG in-process (`dag.test()`, as `econ-monitor run` does), then the two report
  DAGs its announcements start, and where that time went (the dbt build, the node tasks, the other tasks,
  dag.test itself), from the task instances;
- a second in-process run with nothing new (the 10-minute poll), and the poll's own function;
- (b) with --scheduler: api-server, scheduler and dag-processor (LocalExecutor, metadata in the same
  Postgres), the delivery triggered once the scheduler is idle, timed from the run's queueing to the end
  of the last report run (taken from the metadata DB, so the CLI's start-up is not counted).

It prints figures and the ratios (a)/(c) and (b)/(c); nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

REPORT_DAGS = ("econ_monthly_bulletin", "econ_weekly_dispatch")


@contextmanager
def timed(figures: dict, label: str):
    started = time.perf_counter()
    yield
    figures[label] = time.perf_counter() - started


def new_database(server_url: str, name: str) -> str:
    """A fresh, migrated warehouse on the benchmark's server, made the platform's warehouse."""
    from econ_monitor.warehouse import export_dbt_env

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = server_url.replace("/econ?", f"/{name}?")
    os.environ["ECON_WAREHOUSE_URL"] = url
    export_dbt_env(url)
    return url


def direct(url: str, landing: Path) -> dict:
    """(c): every step of a delivery, called one after the other."""
    from econ_monitor import pipeline, reports
    from econ_monitor.transform import build

    figures: dict[str, float] = {}
    with timed(figures, "prepare_warehouse"):
        pipeline.prepare_warehouse()
    with timed(figures, "ingest"):
        loaded = pipeline.ingest_delivery(landing)
    with timed(figures, "dbt build"):
        build(url)
    with timed(figures, "quality gate"):
        gate = pipeline.quality_gate("benchmark-direct")
    with timed(figures, "alerts"):
        alerts = pipeline.raise_alerts(gate["withheld_domains"])
    with timed(figures, "mail"):
        mail = pipeline.deliver_mail()
    with timed(figures, "reports"):
        reports.publish_monthly_bulletin()
        reports.publish_weekly_dispatch()
    print(
        f"  direct: {loaded['loaded']} files, gate {gate['status']}, {alerts['opened']} warnings opened, "
        f"{mail['sent']} mails sent"
    )
    return figures


def in_process(landing: Path) -> tuple[float, dict[str, str], dict[str, float]]:
    """(a): the delivery DAG with dag.test(), then the report DAGs it announced (as `econ-monitor run`);
    also where the time went (`breakdown`)."""
    from econ_monitor import local_airflow
    from econ_monitor.cli import REPORTS_ON_ANNOUNCEMENT

    started = time.perf_counter()
    state, tasks, _ = local_airflow.run_dag("econ_delivery.py", "econ_delivery", {"landing": str(landing)})
    states = {"econ_delivery": state}
    for announcement, dag_id in REPORTS_ON_ANNOUNCEMENT.items():
        if tasks.get(announcement) == "success":
            states[dag_id] = local_airflow.run_dag("econ_reports.py", dag_id, {})[0]
    elapsed = time.perf_counter() - started
    return elapsed, {**states, "tasks": str(len(tasks))}, breakdown(["econ_delivery", *REPORT_DAGS], elapsed)


def breakdown(dag_ids: list[str], elapsed: float) -> dict[str, float]:
    """The last in-process runs of `dag_ids`, from their task instances: the dbt build (cosmos's producer),
    the tasks that show each dbt node, the other tasks, and the rest of `elapsed` (dag.test between tasks:
    parsing and serialising the DAG files, its scheduling loop)."""
    from airflow.models import DagRun, TaskInstance
    from airflow.utils.session import create_session

    parts = {"dbt build (producer)": 0.0, "dbt node tasks": 0.0, "other tasks": 0.0}
    counts = dict.fromkeys(parts, 0)
    with create_session() as session:
        for dag_id in dag_ids:
            run = session.query(DagRun).filter_by(dag_id=dag_id).order_by(DagRun.id.desc()).first()
            if run is None:
                continue
            for ti in session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run.run_id):
                if not (ti.start_date and ti.end_date):
                    continue
                part = (
                    "dbt build (producer)"
                    if ti.task_id.endswith("dbt_producer_watcher")
                    else "dbt node tasks"
                    if ti.task_id.startswith("dbt_build.")
                    else "other tasks"
                )
                parts[part] += (ti.end_date - ti.start_date).total_seconds()
                counts[part] += 1
    parts = {f"{part} ({counts[part]})": seconds for part, seconds in parts.items()}
    parts["dag.test between tasks"] = elapsed - sum(parts.values())
    return parts


def poll_function(landing: Path) -> float:
    from econ_monitor import pipeline

    started = time.perf_counter()
    assert pipeline.poll_landing(landing) == []
    return time.perf_counter() - started


def on_scheduler(server_url: str, work: Path, landing: Path, smtp_port: int) -> dict:
    """(b): the same delivery on api-server + scheduler + dag-processor (LocalExecutor)."""
    from econ_monitor.mailsink import free_port
    from econ_monitor.settings import PROJECT_DIR

    warehouse = new_database(server_url, "bench_scheduler")
    from econ_monitor.pipeline import prepare_warehouse

    prepare_warehouse()
    meta = "airflow_meta"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(meta)))
    meta_url = server_url.replace("/econ?", f"/{meta}?")
    socket_dir = server_url.split("host=", 1)[1]
    drop = work / "scheduler-landing"
    drop.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(work / "airflow-scheduler"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_DIR / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://postgres@localhost/{meta}?host={socket_dir}",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__COSMOS__CACHE_DIR": str(work / "cosmos-scheduler"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "ECON_WAREHOUSE_URL": warehouse,
        "ECON_LANDING_DIR": str(drop),
        # Once a year: the scheduler's first run finds nothing, the delivery is triggered by hand.
        "ECON_DELIVERY_SCHEDULE": "0 0 1 1 *",
        "ECON_SMTP_HOST": "127.0.0.1",
        "ECON_SMTP_PORT": str(smtp_port),
    }
    airflow = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
    logs = work / "scheduler-logs"
    logs.mkdir()
    processes = [
        subprocess.Popen(
            [*airflow, command],
            env=env,
            stdout=(logs / f"{command}.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for command in ("api-server", "scheduler", "dag-processor")
    ]

    def runs(dag_id: str) -> list[tuple]:
        with psycopg.connect(meta_url, autocommit=True) as conn:
            return conn.execute(
                "SELECT run_id, state, queued_at, start_date, end_date FROM dag_run WHERE dag_id = %s ORDER BY id",
                (dag_id,),
            ).fetchall()

    def wait(condition, what: str, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except psycopg.errors.UndefinedTable:
                pass
            time.sleep(1)
        raise TimeoutError(f"{what} did not happen within {timeout:.0f} s; logs in {logs}")

    figures: dict[str, float] = {}
    try:
        # The first, scheduled run polls an empty landing area: the idle cost on a real scheduler.
        wait(lambda: any(run[1] in ("success", "failed") for run in runs("econ_delivery")), "the first poll")
        first = runs("econ_delivery")[0]
        figures["no-change poll (scheduler)"] = (first[4] - first[2]).total_seconds()
        shutil.copytree(landing, drop, dirs_exist_ok=True)
        subprocess.run(
            [*airflow, "dags", "trigger", "econ_delivery", "--conf", json.dumps({"landing": str(drop)})],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        wait(
            lambda: len(runs("econ_delivery")) == 2 and runs("econ_delivery")[1][1] in ("success", "failed"),
            "the delivery run",
        )
        delivery = runs("econ_delivery")[1]
        wait(
            lambda: all(runs(dag_id) and runs(dag_id)[-1][1] in ("success", "failed") for dag_id in REPORT_DAGS),
            "the report runs",
        )
        ends = [delivery[4], *(runs(dag_id)[-1][4] for dag_id in REPORT_DAGS)]
        figures["delivery run (scheduler)"] = (delivery[4] - delivery[2]).total_seconds()
        figures["(b) total"] = (max(ends) - delivery[2]).total_seconds()
        print(
            f"  scheduler: econ_delivery {delivery[1]}, "
            + ", ".join(f"{dag_id} {runs(dag_id)[-1][1]}" for dag_id in REPORT_DAGS)
        )
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scheduler", action="store_true", help="also time (b) on a real scheduler (slower)")
    parser.add_argument("--landing", type=Path, help="the delivery to replay (default: the bundled sample)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="econ-delivery-bench-"))
    os.environ["ECON_LOCAL_DIR"] = str(work / "local")
    os.environ.setdefault("ECON_LINK_SECRET", secrets.token_urlsafe(32))
    for name in ("ECON_WAREHOUSE_URL", "ECON_SMTP_HOST", "ECON_SMTP_PORT"):
        os.environ.pop(name, None)

    from econ_monitor import local_airflow
    from econ_monitor.mailsink import start_sink
    from econ_monitor.settings import PROJECT_DIR, load_settings
    from econ_monitor.warehouse import stop_embedded, warehouse_url

    landing = (args.landing or PROJECT_DIR / "demo_data" / "2025-09").resolve()
    settings = load_settings()
    sink = start_sink(work / "outbox")
    os.environ["ECON_SMTP_HOST"], os.environ["ECON_SMTP_PORT"] = sink.hostname, str(sink.port)
    try:
        server_url = warehouse_url(settings)
        local_airflow.configure(settings)
        local_airflow.migrate_metadata_db()
        figures: dict[str, float] = {}

        print(f"delivery: {landing}")
        new_database(server_url, "bench_direct")
        steps = direct(os.environ["ECON_WAREHOUSE_URL"], landing)
        figures["(c) direct"] = sum(steps.values())

        new_database(server_url, "bench_dag")
        figures["(a) in-process DAG"], states, parts = in_process(landing)
        print(f"  in-process: {states}")
        figures["no-change run (in-process DAG)"], _, _ = in_process(landing)
        figures["no-change poll (functions)"] = poll_function(landing)

        if args.scheduler:
            figures.update(on_scheduler(server_url, work, landing, sink.port))

        print("\n(c) the steps called directly:")
        for step, seconds in steps.items():
            print(f"  {step:<20} {seconds:6.1f} s")
        print("(a) where the in-process runs' time went:")
        for part, seconds in parts.items():
            print(f"  {part:<28} {seconds:6.1f} s")
        print()
        for label, seconds in figures.items():
            print(f"{label:<34} {seconds:6.1f} s")
        print(f"\nratio (a)/(c): {figures['(a) in-process DAG'] / figures['(c) direct']:.2f}")
        if "(b) total" in figures:
            print(f"ratio (b)/(c): {figures['(b) total'] / figures['(c) direct']:.2f}")
    finally:
        sink.stop()
        stop_embedded(settings)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
