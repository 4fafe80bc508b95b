"""Run the project's DAGs in-process (`dag.test()`), with a SQLite metadata DB under .local/airflow.

This is how `econ-monitor run`, `make demo` and the end-to-end tests run the very DAGs that the
docker-compose stack schedules with the CeleryExecutor.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

from econ_monitor.settings import PROJECT_DIR, Settings, apply_offline_defaults

DAGS_DIR = PROJECT_DIR / "dags"


def configure(settings: Settings) -> None:
    """Point Airflow at this project; must run before anything imports airflow."""
    apply_offline_defaults()
    home = settings.airflow_home
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_DIR))
    os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(PROJECT_DIR / "plugins"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
    os.environ.setdefault("AIRFLOW__COSMOS__CACHE_DIR", str(settings.local_dir / "cosmos"))
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    # As deploy/airflow.env says why: the dbt producer is never retried, its node statuses need no
    # copy in a Variable after each one.
    os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY", "False")


def migrate_metadata_db() -> None:
    """Create or upgrade the metadata DB with Airflow's own command, only when it is not at Airflow's
    head: that command is a new process importing Airflow (seconds), the check is one in-process query,
    and every `econ-monitor run` (a poll with nothing new included) passes here."""
    from airflow.utils.db import check_migrations

    try:
        check_migrations(timeout=0)
    except TimeoutError:
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, stdout=subprocess.DEVNULL)


def load_dag(dag_file: str, dag_id: str):
    spec = importlib.util.spec_from_file_location(f"econ_dag_{dag_id}", DAGS_DIR / dag_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for value in vars(module).values():
        if getattr(value, "dag_id", None) == dag_id:
            return value
    raise LookupError(f"no DAG {dag_id} in {dag_file}")


def run_dag(dag_file: str, dag_id: str, conf: dict) -> tuple[str, dict[str, str], dict[str, object]]:
    """Run one DAG to completion; returns (run state, task states, return values of tasks)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    dag = load_dag(dag_file, dag_id)
    dag_run = dag.test(run_conf=conf)
    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    with create_session() as session:
        values = {
            row.task_id: row.value
            for row in session.query(XComModel).filter_by(dag_id=dag_id, run_id=dag_run.run_id, key="return_value")
        }
    return str(dag_run.state), states, values
