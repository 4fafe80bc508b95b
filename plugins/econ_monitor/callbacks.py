"""Airflow callbacks shared by the DAGs. Importing this module is cheap (the pipeline is imported only
when a callback fires), so DAG files can import it at parse time."""

from __future__ import annotations

from datetime import timedelta


def default_args(retry_delay: timedelta, execution_timeout: timedelta) -> dict:
    """What every task of the project's DAGs shares: the data team's mail when it fails for good, and
    retries that back off (a task's own `retries` says where a retry is unsafe or pointless)."""
    return {
        "owner": "data-team",
        "on_failure_callback": mail_data_team_on_failure,
        "retries": 2,
        "retry_delay": retry_delay,
        # The multiplier (Airflow 3.3): each retry waits up to twice as long as the one before. `True`
        # would be 1, a constant delay.
        "retry_exponential_backoff": 2.0,
        "execution_timeout": execution_timeout,
    }


def mail_data_team_on_failure(context) -> None:
    """A task failed for good (after its retries): tell the data team with DAG, task, run, landing and log."""
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
