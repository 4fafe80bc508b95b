"""The production topology for real: `deploy/local-cluster` starts Postgres, redis-server, Airflow's
api-server, scheduler, dag-processor, triggerer and two Celery workers from deploy/airflow.env -- the file
docker-compose.yml reads -- and a delivery dropped into the landing area runs to the leaders' mail and the
reports on its own. One worker is killed (SIGKILL to its process group, as a container dies) while it runs
a dbt task: the task is retried on the other worker, and nothing is loaded or mailed twice.

Only timing knobs are changed from deploy/airflow.env (poll every minute, a dead worker noticed after
20 s instead of 2 min and its task retried after 5 s instead of 1-2 min, a task it left queued requeued after
3 min instead of 10) so that the test takes minutes, not hours."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import psycopg
import pytest

from econ_monitor.settings import PROJECT_DIR
from tests.conftest import EXPECTED, SAMPLE, Mailbox, new_database
from tests.support import rows

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not shutil.which("redis-server"), reason="redis-server missing (make system-deps installs it as root)"
    ),
]

CLUSTER = PROJECT_DIR / "deploy" / "local-cluster"
sys.path.insert(0, str(PROJECT_DIR / "deploy"))
from local_cluster import _alive, _sqlalchemy_url  # noqa: E402 - deploy/ is no package

# From `up` to the reports' mails, a deadline, not a measurement (the test prints the time taken). A run
# that cannot finish (a task failed for good, an announcement skipped, a component dead) fails the test at
# once with the task states and logs; the deadline only bounds a cluster that is merely slow.
DEADLINE_SECONDS = 900
# Whatever task runs dbt (one task per node, or one for the whole build): found by its id, not a fixed one.
DBT_TASK = re.compile(r"dbt")
REPORT_DAGS = ("econ_weekly_dispatch", "econ_monthly_bulletin")
REPORT_KINDS = ("weekly_dispatch", "monthly_bulletin")


@pytest.fixture(scope="module")
def mailbox_module():
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture(scope="module")
def cluster(server_url, tmp_path_factory, mailbox_module):
    tmp = tmp_path_factory.mktemp("cluster")
    warehouse = new_database(server_url)
    env = {
        **{k: v for k, v in os.environ.items() if k != "ECON_LINK_SECRET"},  # the suite's is weak: generated
        "ECON_PYTHON": sys.executable,
        "ECON_CLUSTER_DIR": str(tmp / "state"),
        "ECON_LOCAL_DIR": str(tmp / "local"),
        "ECON_LANDING_DIR": str(tmp / "landing"),
        "ECON_WAREHOUSE_URL": warehouse,
        "ECON_SMTP_HOST": "127.0.0.1",
        "ECON_SMTP_PORT": str(mailbox_module.port),
        "ECON_DELIVERY_SCHEDULE": "* * * * *",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        # The DAG files do not change during the test: parsed once at start, not again every 30 s (Airflow's
        # default; each parse of the cosmos DAG is a new process, ~14 s of CPU over the test).
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        # A task the killed worker had taken from the broker but not started stays queued (its message is
        # not redelivered) until the scheduler requeues it: after 3 min here, 10 min by default.
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "180",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "30",
        # The killed worker's task is retried after at most 5 s, not the DAG's 1-2 min backoff.
        "AIRFLOW__CORE__MAX_TASK_RETRY_DELAY": "5",
    }
    started = time.monotonic()
    subprocess.run([str(CLUSTER), "up"], env=env, check=True, timeout=600)
    state = json.loads((tmp / "state" / "cluster.json").read_text(encoding="utf-8"))
    metadata_url = server_url.replace("/econ?", "/airflow?")
    try:
        yield {
            "env": env,
            "state": state,
            "tmp": tmp,
            "landing": tmp / "landing",
            "warehouse": warehouse,
            "metadata": metadata_url,
            "started": started,
            "mailbox": mailbox_module,
        }
    finally:
        subprocess.run([str(CLUSTER), "down"], check=False, env=env, timeout=300)
        os.environ.pop("ECON_WAREHOUSE_URL", None)


def _logs(cluster) -> str:
    logs = cluster["tmp"] / "state" / "logs"
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(logs.glob("*.log")))


def _task_log(cluster, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
    """The last events of a task's attempt, as its worker wrote them (JSON lines) under AIRFLOW_HOME/logs."""
    path = (
        cluster["tmp"]
        / "state"
        / "airflow"
        / "logs"
        / f"dag_id={dag_id}"
        / f"run_id={run_id}"
        / f"task_id={task_id}"
        / f"attempt={max(try_number, 1)}.log"
    )
    if not path.exists():
        return f"    (no log {path.name})"
    lines = []
    for line in path.read_text(errors="replace").splitlines()[-25:]:
        try:
            event = json.loads(line)
            errors = [f"{e.get('exc_type')}: {e.get('exc_value')}" for e in event.get("error_detail") or []]
            lines.append(f"    {event.get('level', '?'):7} {' '.join([str(event.get('event', '')), *errors])}")
        except ValueError:
            lines.append(f"    {line}")
    return "\n".join(lines)


def _task_states(meta) -> str:
    rows_ = meta.execute(
        "SELECT dag_id, run_id, task_id, state, hostname, try_number FROM task_instance "
        "WHERE state IS DISTINCT FROM 'skipped' OR task_id LIKE 'announce%%' ORDER BY start_date NULLS LAST"
    ).fetchall()
    return "\n".join(f"  {d} {r} {t}: {s} on {h or '-'} (try {n})" for d, r, t, s, h, n in rows_)


def _trouble(meta, cluster, killed_worker: str | None) -> str | None:
    """Why the reports can no longer come, or None while they still can: a component that died (other
    than the worker the test killed), a task failed for good, a report task failing, or an announcement
    skipped. Each names the task with the last lines of its log."""
    dead = [name for name, pid in cluster["state"]["pids"].items() if name != killed_worker and not _alive(pid)]
    if dead:
        return f"components exited: {', '.join(dead)}"
    failing = meta.execute(
        "SELECT dag_id, run_id, task_id, state, try_number FROM task_instance "
        "WHERE state IN ('failed', 'upstream_failed') OR (dag_id = ANY(%s) AND state = 'up_for_retry') "
        "OR (task_id LIKE 'announce%%' AND state = 'skipped' AND run_id IN "
        "(SELECT run_id FROM task_instance WHERE dag_id = 'econ_delivery' AND task_id = 'ingest' "
        "AND state = 'success'))",
        (list(REPORT_DAGS),),
    ).fetchall()
    if not failing:
        return None
    why = []
    for dag_id, run_id, task_id, state, tries in failing:
        why.append(f"{dag_id} {run_id} {task_id}: {state}\n{_task_log(cluster, dag_id, run_id, task_id, tries)}")
        if task_id.startswith("announce"):
            outputs = meta.execute(
                "SELECT task_id, value FROM xcom WHERE dag_id = 'econ_delivery' AND run_id = %s "
                "AND key = 'return_value' AND task_id IN ('ingest', 'quality_gate')",
                (run_id,),
            ).fetchall()
            for producer, value in outputs:
                keep = ("report_types", "loaded", "duplicate") if producer == "ingest" else ("failed_critical",)
                why.append(f"  {producer} returned { ({k: (value or {}).get(k) for k in keep}) }")
    return "\n".join(why)


def _wait(what: str, condition, cluster, meta, killed_worker: str | None = None, every: float = 2):
    """Poll `condition` until it holds; fail at once when `_trouble` says it never will, or at the
    deadline, with the task states either way."""
    deadline = cluster["started"] + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if trouble := _trouble(meta, cluster, killed_worker):
            pytest.fail(f"{what} will not come: {trouble}\ntask states:\n{_task_states(meta)}")
        time.sleep(every)
    pytest.fail(
        f"timed out after {DEADLINE_SECONDS} s waiting for {what}\ntask states:\n{_task_states(meta)}\n{_logs(cluster)}"
    )


def _running_dbt_task(meta) -> tuple[str, str] | None:
    """A dbt task running on a worker, once half of the dbt tasks are done (so that both workers share
    the first half and the kill still hits dbt when dbt is a single task)."""
    tasks = meta.execute(
        "SELECT task_id, state, hostname FROM task_instance WHERE dag_id = 'econ_delivery' AND run_id = "
        "(SELECT run_id FROM dag_run WHERE dag_id = 'econ_delivery' AND state = 'running' LIMIT 1) "
        "ORDER BY start_date DESC NULLS LAST"
    ).fetchall()
    dbt = [(task_id, state, hostname) for task_id, state, hostname in tasks if DBT_TASK.search(task_id)]
    if sum(state == "success" for _, state, _ in dbt) < (len(dbt) - 1) // 2:
        return None
    return next(
        (
            (task_id, hostname)
            for task_id, state, hostname in dbt
            if state == "running" and hostname in ("worker1", "worker2")
        ),
        None,
    )


@pytest.fixture(scope="module")
def delivered(cluster):
    """The department drops its files; nobody triggers anything. Kill the worker that runs dbt first."""
    box = cluster["mailbox"]
    shutil.copytree(SAMPLE, cluster["landing"], dirs_exist_ok=True)
    with psycopg.connect(cluster["metadata"], autocommit=True) as meta:
        killed_task, killed_worker = _wait(
            "a dbt task running on a worker", lambda: _running_dbt_task(meta), cluster, meta, every=0.3
        )
        os.killpg(cluster["state"]["pids"][killed_worker], signal.SIGKILL)
        killed_at = time.monotonic()

        def digests():
            return [m for m in box.messages if m["X-Econ-Monitor-Kind"] == "digest"]

        def reports_done():
            states = dict(
                meta.execute(
                    "SELECT dag_id, state FROM dag_run WHERE dag_id = ANY(%s) AND state IN ('success', 'failed')",
                    (list(REPORT_DAGS),),
                ).fetchall()
            )
            return len(states) == len(REPORT_DAGS) and states

        _wait(
            "the leaders' digests", lambda: len(digests()) >= len(EXPECTED["recipients"]), cluster, meta, killed_worker
        )
        report_states = _wait("the report DAGs", reports_done, cluster, meta, killed_worker)
        delivery_runs = meta.execute(
            "SELECT run_id, run_type, state FROM dag_run WHERE dag_id = 'econ_delivery' "
            "AND run_id IN (SELECT run_id FROM task_instance WHERE dag_id = 'econ_delivery' AND task_id = 'ingest' "
            "AND state = 'success')"
        ).fetchall()
        run_id = delivery_runs[0][0]
        task_instances = meta.execute(
            "SELECT task_id, state, hostname, try_number FROM task_instance WHERE dag_id = 'econ_delivery' AND run_id = %s",
            (run_id,),
        ).fetchall()
        report_runs = meta.execute(
            "SELECT dag_id, run_type FROM dag_run WHERE dag_id = ANY(%s)", (list(REPORT_DAGS),)
        ).fetchall()
    return {
        "killed_task": killed_task,
        "killed_worker": killed_worker,
        "killed_at": killed_at,
        "delivery_runs": delivery_runs,
        "task_instances": task_instances,
        "report_states": report_states,
        "report_runs": report_runs,
        "wall_seconds": time.monotonic() - cluster["started"],
    }


def test_the_schedule_picks_up_the_delivery_and_its_tasks_run_on_both_workers(delivered):
    assert [(run_type, state) for _, run_type, state in delivered["delivery_runs"]] == [("scheduled", "success")]
    # A task the scheduler or the triggerer finished itself (an empty task, a deferred task completed by its
    # trigger) names no worker.
    hosts = {hostname for _, state, hostname, _ in delivered["task_instances"] if state == "success" and hostname}
    assert hosts == {"worker1", "worker2"}
    print(f"cluster: up to reports done in {delivered['wall_seconds']:.0f}s")


def test_the_task_of_a_killed_worker_is_retried_on_the_other_worker(delivered):
    task = {task_id: (state, hostname, tries) for task_id, state, hostname, tries in delivered["task_instances"]}
    state, hostname, tries = task[delivered["killed_task"]]
    assert state == "success" and tries >= 2
    assert hostname != delivered["killed_worker"]


def test_nothing_is_loaded_or_mailed_twice(cluster, delivered):
    from econ_monitor.warehouse import connect

    box = cluster["mailbox"]
    digests = sorted(m["To"] for m in box.messages if m["X-Econ-Monitor-Kind"] == "digest")
    assert digests == sorted(EXPECTED["recipients"])
    with connect(cluster["warehouse"]) as conn:
        assert rows(conn, "SELECT count(*) FROM raw.load_audit WHERE status = 'loaded'") == [(12,)]
        assert rows(conn, "SELECT count(*) FROM monitor.outbox WHERE status <> 'sent'") == [(0,)]
        sent = rows(conn, "SELECT count(*) FROM monitor.outbox")[0][0]
    # every mail the server got is one outbox row: none sent twice
    assert len(box.messages) == sent
    ids = [m["Message-ID"] for m in box.messages]
    assert len(set(ids)) == len(ids)


def test_the_report_dags_run_from_the_asset_events_and_mail_the_leadership(cluster, delivered):
    assert delivered["report_states"] == dict.fromkeys(REPORT_DAGS, "success")
    assert sorted(run_type for _, run_type in delivered["report_runs"]) == ["asset_triggered", "asset_triggered"]
    reports = [m for m in cluster["mailbox"].messages if m["X-Econ-Monitor-Kind"] in REPORT_KINDS]
    assert sorted({m["X-Econ-Monitor-Kind"] for m in reports}) == sorted(REPORT_KINDS)
    assert len(reports) == len({(m["X-Econ-Monitor-Kind"], m["To"]) for m in reports})


def test_compose_health_checks_pass_against_the_running_components(cluster, delivered):
    """The same probes docker-compose.yml's health checks run, against the native processes."""
    ports = cluster["state"]["ports"]
    for url in (
        f"http://127.0.0.1:{ports['api']}/api/v2/monitor/health",
        f"http://127.0.0.1:{ports['scheduler_health']}/health",
    ):
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200, url
    env = {
        **cluster["env"],
        "AIRFLOW_HOME": str(cluster["tmp"] / "state" / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _sqlalchemy(cluster["metadata"]),
    }
    # The three checks at once: each is a Python start-up of Airflow, seconds of CPU on a busy machine.
    checks = [
        subprocess.Popen(
            [sys.executable, "-m", "airflow", "jobs", "check", "--job-type", job, "--local"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for job in ("DagProcessorJob", "TriggererJob", "SchedulerJob")
    ]
    for check in checks:
        output, _ = check.communicate(timeout=120)
        assert check.returncode == 0, output.decode(errors="replace")[-2000:]


def _sqlalchemy(libpq_url: str) -> str:
    return _sqlalchemy_url(libpq_url, "airflow")
