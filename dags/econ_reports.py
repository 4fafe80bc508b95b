"""Airflow DAGs for the work plan's 周调度、月通报: `econ_weekly_dispatch` and `econ_monthly_bulletin`.

Data-aware scheduling: the delivery DAG announces a new weekly ledger or new monthly statistics as an
Asset event once their marts and alerts are rebuilt and mailed, and the matching report DAG runs then,
so no clock has to be aligned with the departments' delivery dates.

Orchestration only: each DAG has one task calling one tested function of `econ_monitor.reports`
(build → archive the HTML → queue one mail per leader → deliver). Publishing the same period again
mails nobody twice. Parsing this file imports nothing but the asset names.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, dag, task

from econ_monitor.assets import MONTHLY_STATISTICS_URI, WEEKLY_LEDGER_URI
from econ_monitor.callbacks import mail_data_team_on_failure

DEFAULT_ARGS = {
    "owner": "data-team",
    "on_failure_callback": mail_data_team_on_failure,
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(minutes=15),
}
START = pendulum.datetime(2025, 1, 1, tz="Asia/Shanghai")


@dag(
    dag_id="econ_monthly_bulletin",
    description="月通报: monthly bulletin to the leadership group when new monthly statistics are in",
    schedule=[Asset(MONTHLY_STATISTICS_URI)],
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["econ-monitor", "report"],
)
def econ_monthly_bulletin():
    @task(execution_timeout=timedelta(minutes=15))
    def publish_monthly_bulletin() -> dict:
        from econ_monitor import reports

        return reports.publish_monthly_bulletin()

    publish_monthly_bulletin()


@dag(
    dag_id="econ_weekly_dispatch",
    description="周调度: weekly dispatch to the leadership group when a new weekly project ledger is in",
    schedule=[Asset(WEEKLY_LEDGER_URI)],
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["econ-monitor", "report"],
)
def econ_weekly_dispatch():
    @task(execution_timeout=timedelta(minutes=15))
    def publish_weekly_dispatch() -> dict:
        from econ_monitor import reports

        return reports.publish_weekly_dispatch()

    publish_weekly_dispatch()


econ_monthly_bulletin_dag = econ_monthly_bulletin()
econ_weekly_dispatch_dag = econ_weekly_dispatch()
