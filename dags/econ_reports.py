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
from econ_monitor.callbacks import default_args

START = pendulum.datetime(2025, 1, 1, tz="Asia/Shanghai")


def report_dag(report: str, description: str, asset_uri: str):
    """The DAG `econ_<report>`: run by each event of `asset_uri`, one task `publish_<report>` calling
    `econ_monitor.reports.publish_<report>`."""

    @dag(
        dag_id=f"econ_{report}",
        description=description,
        schedule=[Asset(asset_uri)],
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(retry_delay=timedelta(minutes=2), execution_timeout=timedelta(minutes=15)),
        tags=["econ-monitor", "report"],
    )
    def report_pipeline():
        @task(task_id=f"publish_{report}")
        def publish() -> dict:
            from econ_monitor import reports

            return getattr(reports, f"publish_{report}")()

        publish()

    return report_pipeline()


econ_monthly_bulletin_dag = report_dag(
    "monthly_bulletin",
    "月通报: monthly bulletin to the leadership group when new monthly statistics are in",
    MONTHLY_STATISTICS_URI,
)
econ_weekly_dispatch_dag = report_dag(
    "weekly_dispatch",
    "周调度: weekly dispatch to the leadership group when a new weekly project ledger is in",
    WEEKLY_LEDGER_URI,
)
