"""The data-quality gate between the dbt build and the alerts, run with Great Expectations (GX Core 1.x).

Suites live in `expectations/*.json`, reviewed like code; each names the table it checks and the alert
domains a critical failure withholds. Expectations run as SQL in Postgres (GX's SQL datasource).
A `critical` failure withholds the leaders' alerts of those domains; a `warning` lets them go out.
Either way the data team gets one mail listing each failed expectation with its table, column, a few
failing values and the source files. Results are kept in `monitor.quality_results` and as GX Data Docs.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from econ_monitor.alerts.digest import queue_data_team_mail
from econ_monitor.quality.suites import SuiteSpec, completeness_suite, ledger_size_suite, load_suites
from econ_monitor.settings import load_settings
from econ_monitor.warehouse import gx_connection_string, warehouse_url

log = logging.getLogger(__name__)

SAMPLE_VALUES = 5


@dataclass(frozen=True)
class Failure:
    suite: str
    table: str
    expectation: str
    description: str
    column: str | None
    severity: str
    observed: object
    failing_values: list
    source_files: list[str]
    withholds: tuple[str, ...]


@dataclass
class GateOutcome:
    run_id: str
    checked: int = 0
    failures: list[Failure] = field(default_factory=list)
    data_docs: str | None = None

    @property
    def critical(self) -> list[Failure]:
        return [f for f in self.failures if f.severity == "critical"]

    @property
    def withheld_domains(self) -> list[str]:
        return sorted({domain for failure in self.critical for domain in failure.withholds})

    def as_dict(self) -> dict:
        return {
            "status": "failed" if self.critical else ("passed_with_warnings" if self.failures else "passed"),
            "checked": self.checked,
            "failed_critical": len(self.critical),
            "failed_warning": len(self.failures) - len(self.critical),
            "withheld_domains": self.withheld_domains,
            "failures": [f"{f.severity}: {f.table}.{f.column or '*'} {f.description}" for f in self.failures],
            "data_docs": self.data_docs,
        }


def run_gate(conn: psycopg.Connection, run_id: str, url: str | None = None) -> GateOutcome:
    # GX is imported here, never at DAG parse: the import alone takes seconds.
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    settings = load_settings()
    docs_dir = settings.local_dir / "gx_docs"
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(
        site_name="econ_monitor",
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        },
    )
    datasource = context.data_sources.add_postgres(
        "warehouse", connection_string=gx_connection_string(url or warehouse_url())
    )
    specs = [*load_suites(), completeness_suite(), ledger_size_suite()]
    definitions = {}
    for spec in specs:
        asset = datasource.add_table_asset(name=spec.name, table_name=spec.table, schema_name=spec.schema)
        suite = context.suites.add(spec.build_suite())
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=spec.name, data=asset.add_batch_definition_whole_table("current"), suite=suite)
        )
        definitions[spec.name] = (spec, definition)
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="delivery_gate",
            validation_definitions=[definition for _, definition in definitions.values()],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_VALUES},
        )
    )
    result = checkpoint.run(run_id=None)
    # Data Docs built once, from the run's results in the context's stores. GX's UpdateDataDocsAction
    # rebuilds the site's index after every one of the ~12 suites (and re-compiles its templates each
    # time): that was more than half of the gate's time.
    context.build_data_docs(site_names=["econ_monitor"])
    outcome = GateOutcome(run_id=run_id, data_docs=str(docs_dir / "index.html"))
    for validation in result.run_results.values():
        spec, _ = definitions[validation.suite_name]
        for check in validation.results:
            outcome.checked += 1
            if not check.success:
                outcome.failures.append(_failure(conn, spec, check))
    _record(conn, outcome, specs)
    _mail_data_team(conn, outcome)
    return outcome


def _failure(conn: psycopg.Connection, spec: SuiteSpec, check) -> Failure:
    config = check.expectation_config
    kwargs = config.kwargs
    column = kwargs.get("column")
    details = check.result or {}
    values = list(details.get("partial_unexpected_list") or [])[:SAMPLE_VALUES]
    if config.type == "unexpected_rows_expectation":
        values, sources = _unexpected_rows(conn, spec, kwargs["unexpected_rows_query"])
    elif column and values:
        sources = _source_files(conn, spec, column, values)
    else:
        sources = []
    sources = [source for source in sources if source]  # rows made from no file (a missing target) name none
    error = _exception_message(check.exception_info)
    if error:
        values = [f"check could not run: {error}"]
    description = config.description or config.type.replace("_", " ")
    return Failure(
        suite=spec.name,
        table=f"{spec.schema}.{spec.table}",
        expectation=config.type,
        description=description,
        column=column,
        severity=str(getattr(config.severity, "value", config.severity)),
        observed=details.get("observed_value", details.get("unexpected_count")),
        failing_values=[str(value) for value in values],
        source_files=sources,
        withholds=spec.withheld_domains(config.description, sources),
    )


def _exception_message(info: object) -> str | None:
    """GX reports an exception either directly or keyed by the metric that raised it."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))[:300]
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))[:300]
    return None


def _source_files(conn: psycopg.Connection, spec: SuiteSpec, column: str, values: list) -> list[str]:
    """Which delivered files hold the failing values (so the data team knows whom to call)."""
    query = sql.SQL("SELECT DISTINCT source_file FROM {} WHERE {}::text = ANY(%s) LIMIT 5").format(
        sql.Identifier(spec.schema, spec.table), sql.Identifier(column)
    )
    return [row[0] for row in conn.execute(query, ([str(value) for value in values],))]


def _unexpected_rows(conn: psycopg.Connection, spec: SuiteSpec, query: str) -> tuple[list[str], list[str]]:
    # The query is the suite's own (from the repository), run on the table it was written for.
    table = sql.Identifier(spec.schema, spec.table).as_string(conn)
    cursor = conn.execute(f"SELECT * FROM ({query.replace('{batch}', table)}) AS failing LIMIT {SAMPLE_VALUES}")  # noqa: S608 - the suite's query from the repository, the table a quoted identifier
    names = [column.name for column in cursor.description]
    rows = cursor.fetchall()
    conn.rollback()
    sources = sorted(
        {
            str(row[names.index("source_file")])
            for row in rows
            if "source_file" in names and row[names.index("source_file")]
        }
    )
    values = [
        ", ".join(f"{name}={value}" for name, value in zip(names, row, strict=False) if name != "source_file")
        for row in rows
    ]
    return values, sources


def _record(conn: psycopg.Connection, outcome: GateOutcome, specs: list[SuiteSpec]) -> None:
    with conn.transaction():
        conn.execute("DELETE FROM monitor.quality_results WHERE run_id = %s", (outcome.run_id,))
        for failure in outcome.failures:
            conn.execute(
                """INSERT INTO monitor.quality_results (run_id, suite, domain, expectation, column_name, severity,
                       success, observed_value, failing_values, source_files)
                   VALUES (%s, %s, %s, %s, %s, %s, false, %s, %s, %s)""",
                (
                    outcome.run_id,
                    failure.suite,
                    ",".join(failure.withholds),
                    failure.description,
                    failure.column,
                    failure.severity,
                    Jsonb(json.loads(json.dumps(failure.observed, default=str))),
                    Jsonb(failure.failing_values),
                    Jsonb(failure.source_files),
                ),
            )
        conn.execute(
            """INSERT INTO monitor.quality_results (run_id, suite, domain, expectation, severity, success, observed_value)
               VALUES (%s, 'summary', 'all', 'checks run', 'warning', %s, %s)""",
            (
                outcome.run_id,
                not outcome.critical,
                Jsonb(
                    {
                        "checked": outcome.checked,
                        "failed": len(outcome.failures),
                        "suites": [spec.name for spec in specs],
                    }
                ),
            ),
        )


def _mail_data_team(conn: psycopg.Connection, outcome: GateOutcome) -> None:
    if not outcome.failures:
        return
    fingerprint = hashlib.sha256(
        "|".join(sorted(f"{f.table}:{f.description}:{f.failing_values}" for f in outcome.failures)).encode()
    ).hexdigest()[:32]
    critical = len(outcome.critical)
    subject = (
        f"【数据质量】{critical} 项关键检查未通过，已暂停相关预警"
        if critical
        else f"【数据质量】{len(outcome.failures)} 项一般检查未通过（预警照常发送）"
    )
    heading = (
        f"以下数据质量检查未通过。关键（critical）问题涉及的预警已暂停发送：{', '.join(outcome.withheld_domains)}。"
        if critical
        else "以下数据质量检查未通过（warning 级别，预警照常发送）："
    )
    problems = [
        {
            "what": f"[{f.severity}] {f.description}",
            "where": f"{f.table}{'.' + f.column if f.column else ''}；文件：{', '.join(f.source_files) or '—'}",
            "detail": f"实际：{f.observed}；示例：{'; '.join(f.failing_values) or '—'}",
        }
        for f in sorted(outcome.failures, key=lambda f: (f.severity != "critical", f.table))
    ]
    with conn.transaction(), conn.cursor() as cur:
        queue_data_team_mail(cur, f"quality:{fingerprint}", subject, heading, problems)
