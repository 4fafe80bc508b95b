"""Airflow DAG `econ_delivery`: one departmental delivery from the landing area to the leaders' mail.

Orchestration only: each task calls one function of `econ_monitor.pipeline`, tested on its own.
dbt runs through astronomer-cosmos (one task per seed, model and test), rendered from the dbt manifest
so that parsing this file touches neither the database nor dbt.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode

from econ_monitor.settings import PROJECT_DIR, apply_offline_defaults
from econ_monitor.warehouse import configure_dbt_environment

apply_offline_defaults()
configure_dbt_environment()

DBT_DIR = PROJECT_DIR / "dbt_project"
DEFAULT_LANDING = str(PROJECT_DIR / "demo_data" / "2025-09")

def _mail_data_team_on_failure(context) -> None:
    from econ_monitor import pipeline

    task_instance = context["task_instance"]
    pipeline.notify_task_failure(
        dag_id=task_instance.dag_id,
        task_id=task_instance.task_id,
        run_id=context["run_id"],
        landing=(context.get("params") or {}).get("landing"),
        log_url=getattr(task_instance, "log_url", None),
        error=repr(context.get("exception")),
    )


DEFAULT_ARGS = {
    "owner": "data-team",
    "on_failure_callback": _mail_data_team_on_failure,
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(minutes=30),
}


@dag(
    dag_id="econ_delivery",
    description="Departmental delivery → raw → dbt marts → quality gate → alerts → mail",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={"landing": Param(DEFAULT_LANDING, type="string", description="Landing directory <landing>/<dept>/<file>")},
    tags=["econ-monitor", "delivery"],
)
def econ_delivery():
    @task(retries=3)
    def prepare_warehouse() -> None:
        from econ_monitor import pipeline

        pipeline.prepare_warehouse()

    @task(retries=0)  # a bad file is quarantined, not retried; a crash mid-file rolls back its transaction
    def ingest(params=None) -> dict:
        from econ_monitor import pipeline

        return pipeline.ingest_delivery(params["landing"])

    dbt_build = DbtTaskGroup(
        group_id="dbt_build",
        project_config=ProjectConfig(
            dbt_project_path=DBT_DIR, manifest_path=DBT_DIR / "target" / "manifest.json", install_dbt_deps=False
        ),
        profile_config=ProfileConfig(
            profile_name="econ_monitor", target_name="warehouse", profiles_yml_filepath=DBT_DIR / "profiles.yml"
        ),
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.DBT_RUNNER),
        # The embedded warehouse listens on a unix socket: its URI has no host, which Airflow's asset
        # URIs reject, so cosmos must not emit assets for models.
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, emit_datasets=False),
        default_args={"retries": 1},
    )

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

    prepared = prepare_warehouse()
    loaded = ingest()
    gate = quality_gate()
    prepared >> loaded >> dbt_build >> gate
    deliver_mail(raise_alerts(gate))


econ_delivery_dag = econ_delivery()
