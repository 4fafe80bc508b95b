"""Airflow DAG `econ_delivery`: one departmental delivery from the landing area to the leaders' mail.

Orchestration only: each task calls one function of `econ_monitor.pipeline`, tested on its own.
dbt runs through astronomer-cosmos, rendered from the dbt manifest so that parsing this file touches
neither the database nor dbt. cosmos's watcher mode runs the whole project as ONE `dbt build` (the
producer task: seeds, models, and each one's data tests right after it), and shows each seed and model
as its own task, which reads from the producer the outcome of the node and of its tests. A failed model
is retried alone: its task's retry runs `dbt build --select <model>`, the model and its tests. One task
per node running its own dbt (cosmos's default) cost ~1.2 s of dbt start-up per node, ~50 of them: five
times the build itself; a second task per node for its tests cost ~0.15 s each in-process and a process
of its own each on a scheduler.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Asset, Param, TriggerRule, dag, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import PRODUCER_WATCHER_TASK_ID, ExecutionMode, InvocationMode, LoadMode, TestBehavior
from cosmos.operators._watcher.aggregation import get_tests_status_xcom_key
from cosmos.operators._watcher.base import BaseConsumerSensor
from cosmos.operators._watcher.state import get_xcom_val, is_dbt_node_status_success

from econ_monitor.assets import MONTHLY_STATISTICS_URI, WEEKLY_LEDGER_URI
from econ_monitor.callbacks import default_args
from econ_monitor.settings import PROJECT_DIR, apply_offline_defaults
from econ_monitor.warehouse import configure_dbt_environment

apply_offline_defaults()
configure_dbt_environment()

DBT_DIR = PROJECT_DIR / "dbt_project"
# Departments deliver into ECON_LANDING_DIR/<department>/<file>; the DAG polls it on a short schedule
# and does nothing when no file is new. `econ-monitor run --landing DIR` passes another directory.
DEFAULT_LANDING = os.environ.get("ECON_LANDING_DIR", str(PROJECT_DIR / "demo_data" / "2025-09"))
SCHEDULE = os.environ.get("ECON_DELIVERY_SCHEDULE", "*/10 * * * *")
WEEKLY_LEDGER = Asset(WEEKLY_LEDGER_URI)
MONTHLY_STATISTICS = Asset(MONTHLY_STATISTICS_URI)

DEFAULT_ARGS = default_args(retry_delay=timedelta(minutes=1), execution_timeout=timedelta(minutes=30))


def _node_and_its_tests(node: BaseConsumerSensor, tests_per_node: dict[str, list[str]]) -> None:
    """The task of a seed or model succeeds when the build built it AND its data tests passed, which the
    build ran right after it (before anything built on it). Its retry runs `dbt build --select <node>`:
    the node and its tests again, never the unit tests (CI runs those).

    A retry because the task's worker died while it only watched reads the build's outcome again when
    that was a success. cosmos would run dbt for the node again, and re-creating a view drops every view
    built on it (Postgres DROP ... CASCADE), which nothing rebuilds in that run: alerts and reports then
    read relations that no longer exist."""
    node_status, rerun = node._get_node_status, node._handle_retry

    def status_with_tests(ti, context):
        status = node_status(ti, context)
        if not is_dbt_node_status_success(status) or node.model_unique_id not in tests_per_node:
            return status
        tests = get_xcom_val(ti, node.producer_task_id, get_tests_status_xcom_key(node.model_unique_id))
        if tests is not None and not is_dbt_node_status_success(tests):
            node.log.error(
                "the data tests of %s failed (their results are in the producer's log)", node.model_unique_id
            )
        return tests

    def handle_retry(try_number, producer_task_state, context):
        if is_dbt_node_status_success(status_with_tests(context["ti"], context)):
            return True
        return rerun(try_number, producer_task_state, context)

    node._get_node_status, node._handle_retry = status_with_tests, handle_retry
    node.base_cmd = ["build"]
    node.dbt_cmd_flags = ["--exclude-resource-type", "unit_test"]


@dag(
    dag_id="econ_delivery",
    description="Departmental delivery → raw → dbt marts → quality gate → alerts → mail",
    schedule=SCHEDULE,
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={"landing": Param(DEFAULT_LANDING, type="string", description="Landing directory <landing>/<dept>/<file>")},
    tags=["econ-monitor", "delivery"],
)
def econ_delivery():
    # The next scheduled run is the retry: a landing directory that is missing, or a warehouse that cannot
    # be reached or migrated, fails this run at once (the data team is mailed) and is tried again 10
    # minutes later; nothing has been read yet.
    @task.short_circuit(retries=0)
    def new_files_waiting(params=None) -> bool:
        """Prepare the warehouse and stop the run here (everything after it skipped) when the landing
        area holds nothing new."""
        from econ_monitor import pipeline

        return bool(pipeline.poll_landing(params["landing"]))

    # A broken file never fails this task (it is quarantined); a failure here is the infrastructure (a
    # killed worker, the database away), and a retry is safe: an interrupted file's transaction rolled back,
    # and the files its first try committed are still announced (the run's own audit rows name them).
    @task(retries=3)
    def ingest(params=None, run_id=None) -> dict:
        from econ_monitor import pipeline

        return pipeline.ingest_delivery(params["landing"], run_id)

    dbt_build = DbtTaskGroup(
        group_id="dbt_build",
        project_config=ProjectConfig(
            dbt_project_path=DBT_DIR, manifest_path=DBT_DIR / "target" / "manifest.json", install_dbt_deps=False
        ),
        profile_config=ProfileConfig(
            profile_name="econ_monitor", target_name="warehouse", profiles_yml_filepath=DBT_DIR / "profiles.yml"
        ),
        # dbt as a subprocess of the producer: with the in-process dbtRunner, the event callback that
        # publishes each node's status hung the producer under dag.test() (econ-monitor run).
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=str(Path(sys.executable).parent / "dbt"),
        ),
        # The embedded warehouse listens on a unix socket: its URI has no host, which Airflow's asset
        # URIs reject, so cosmos must not emit assets for models. Unit tests check the project's logic,
        # not the data: they run in CI, not on every delivery (as `econ-monitor build`). No test tasks:
        # each node's task covers its tests (`_node_and_its_tests`).
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            emit_datasets=False,
            exclude=["resource_type:unit_test"],
            test_behavior=TestBehavior.NONE,
        ),
        default_args={"retries": 1},
    )
    # cosmos starts the node tasks alongside the producer, each waiting for its node's outcome. Here they
    # start once the producer has finished, whatever its outcome (a failed build is a failed model, which
    # its task then shows and retries alone): dag.test() runs one task at a time, so a node task started
    # first would wait forever, and on a scheduler each would hold a worker slot while waiting.
    producer = dbt_build.children[f"{dbt_build.group_id}.{PRODUCER_WATCHER_TASK_ID}"]
    producer.retries = 0  # cosmos skips a producer's retry; the failed model's task retries that model
    # Without test tasks cosmos also leaves the tests out of the build (`--resource-type` flags): the build
    # runs them, each right after its node.
    producer.dbt_cmd_flags = []
    first_nodes = [node for node in dbt_build.iter_tasks() if not node.upstream_task_ids and node is not producer]
    for node in first_nodes:
        node.trigger_rule = TriggerRule.ALL_DONE_MIN_ONE_SUCCESS  # after ingest succeeded and the producer ended
    for node in dbt_build.iter_tasks():
        if isinstance(node, BaseConsumerSensor):
            _node_and_its_tests(node, producer.tests_per_model)

    @task
    def quality_gate(run_id=None) -> dict:
        from econ_monitor import pipeline

        return pipeline.quality_gate(run_id)

    @task
    def raise_alerts(gate: dict) -> dict:
        from econ_monitor import pipeline

        return pipeline.raise_alerts(gate["withheld_domains"])

    @task(retries=3, retry_delay=timedelta(minutes=2))
    def deliver_mail(alerts: dict) -> dict:
        from econ_monitor import pipeline

        return pipeline.deliver_mail()

    # The report DAGs are scheduled on these assets; a skipped announcement emits no asset event.
    # Reports are built from the marts, so they follow only a delivery whose data passed the gate.
    @task(outlets=[WEEKLY_LEDGER])
    def announce_weekly_ledger(loaded: dict, gate: dict) -> None:
        if "project_ledger" not in loaded["report_types"] or gate["failed_critical"]:
            raise AirflowSkipException("no new weekly ledger that passed the quality gate")

    @task(outlets=[MONTHLY_STATISTICS])
    def announce_monthly_statistics(loaded: dict, gate: dict) -> None:
        if "main_indicators" not in loaded["report_types"] or gate["failed_critical"]:
            raise AirflowSkipException("no new monthly statistics that passed the quality gate")

    # A leaf after the mail: the leaders of unaffected domains got their alerts, and the run still shows
    # the gate as failed. No failure mail: the gate already mailed the data team what failed.
    @task(retries=0, on_failure_callback=None)
    def quality_verdict(gate: dict) -> None:
        if gate["failed_critical"]:
            raise AirflowFailException(
                f"{gate['failed_critical']} critical quality checks failed; alerts withheld for: "
                + ", ".join(gate["withheld_domains"])
            )

    waiting = new_files_waiting()
    loaded = ingest()
    gate = quality_gate()
    waiting >> loaded >> dbt_build >> gate
    producer >> first_nodes
    mailed = deliver_mail(raise_alerts(gate))
    mailed >> [announce_weekly_ledger(loaded, gate), announce_monthly_statistics(loaded, gate), quality_verdict(gate)]


econ_delivery_dag = econ_delivery()
