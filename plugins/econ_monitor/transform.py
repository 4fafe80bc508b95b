"""Run dbt in-process (dbtRunner), as cosmos does inside Airflow, for the CLI, tests and benchmarks."""

from __future__ import annotations

from econ_monitor.settings import PROJECT_DIR, apply_offline_defaults
from econ_monitor.warehouse import export_dbt_env

DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"


class DbtFailed(RuntimeError):
    pass


def run_dbt(args: list[str], url: str | None = None) -> object:
    """Invoke dbt with the project's profile; raise DbtFailed naming the failed nodes."""
    apply_offline_defaults()
    if url:
        export_dbt_env(url)
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--quiet"]
    )
    if not result.success:
        failures = []
        for node_result in getattr(result.result, "results", None) or []:
            if str(node_result.status) in {"error", "fail"}:
                failures.append(f"{node_result.node.unique_id}: {node_result.message}")
        detail = "; ".join(failures) or repr(result.exception)
        raise DbtFailed(f"dbt {' '.join(args)} failed: {detail}")
    return result.result


def build(url: str) -> object:
    """Seeds, models and data tests. Unit tests check the project's logic, not the data: like dbt
    recommends, they run in development and CI (tests/test_dbt_project.py), not on every delivery.
    No JSON artifacts (manifest.json, written twice, and run_results.json): nothing reads them -- cosmos
    renders from the manifest `dbt parse` writes (parse_manifest), a failure is raised with its nodes'
    messages -- and writing them is ~7 % of a sample build's CPU, paid on every build of the test suite.
    Returns dbt's results (each node's execution_time, which benchmarks/incremental.py prints)."""
    return run_dbt(["build", "--exclude-resource-type", "unit_test", "--no-write-json"], url)


def parse_manifest() -> None:
    """Write target/manifest.json, from which cosmos renders the DAG without running dbt at parse time."""
    run_dbt(["parse"])
