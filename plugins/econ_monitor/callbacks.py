"""Airflow callbacks shared by the DAGs. Importing this module is cheap (the pipeline is imported only
when a callback fires), so DAG files can import it at parse time."""

from __future__ import annotations


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
