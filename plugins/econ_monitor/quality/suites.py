"""Expectation suites: the JSON files in `expectations/`, and the completeness suite derived from the
`expected_deliveries` seed (every department that should deliver for the period has delivered)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from econ_monitor.reference import seed
from econ_monitor.settings import PROJECT_DIR, load_ingest_limits

SUITES_DIR = PROJECT_DIR / "expectations"


def delivery_domains(report_type: str, departments: list[str] | None = None) -> tuple[str, ...]:
    """The alert domains a report's data feed (seed expected_deliveries.alert_domains), for the given
    departments' deliveries, or for every department's when none is known."""
    rows = [row for row in seed("expected_deliveries") if row["report_type"] == report_type]
    # A department the seed does not list withholds the report's every domain: never nothing.
    rows = [row for row in rows if row["department_code"] in (departments or ())] or rows
    return tuple(dict.fromkeys(domain for row in rows for domain in row["alert_domains"].split("|")))


# The names a suite may check a column against (`expect_column_values_to_be_in_reference`, kwargs `column`
# and `names`): SQL over the reference data dbt seeded, so that the gate judges names by the very reference
# data the marts were built with. Chain and indicator names are the marts' own lookups (every spelling,
# normalised as staging normalises the delivered names); industry categories are a closed list the seeds'
# tests keep in that normalised spelling, which the marts match delivered categories against as they are.
REFERENCE_NAMES = {
    "chain_names": "select lookup_name from staging.stg_reference__chain_names",
    "industry_categories": "select industry_category from reference.industry_chains",
    "indicator_names": "select lookup_name from staging.stg_reference__indicator_names",
    "leader_titles": "select title from reference.leaders where role = 'leader'",
}


def _expectation(entry: dict) -> tuple[str, dict]:
    """The GX expectation type and arguments of a suite's entry. `expect_column_values_to_be_in_reference`
    is ours: GX's query for the rows whose value is none of the reference names (a missing value is no
    unknown name)."""
    kwargs = dict(entry["kwargs"])
    if entry["type"] != "expect_column_values_to_be_in_reference":
        return entry["type"], kwargs
    column, names = kwargs.pop("column"), kwargs.pop("names")
    if not re.fullmatch(r"[a-z_]+", column):  # it is written into the query below
        raise ValueError(f"{entry}: column {column!r} is not [a-z_]+")
    kwargs.setdefault("description", f"{column} is one of the {names} of the reference data")
    kwargs["unexpected_rows_query"] = (
        f"select {column}, source_file from {{batch}} where {column} not in ({REFERENCE_NAMES[names]})"  # noqa: S608 - a column name checked above and constant SQL
    )
    return "unexpected_rows_expectation", kwargs


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    schema: str
    table: str
    withholds: tuple[str, ...]
    expectations: tuple[dict, ...] = field(default=())
    # A suite over one delivered report withholds that report's alert domains (expected_deliveries).
    report_type: str | None = None

    def build_suite(self):
        import great_expectations as gx
        from great_expectations.expectations.registry import get_expectation_impl

        built = []
        for entry in self.expectations:
            kind, kwargs = _expectation(entry)
            built.append(get_expectation_impl(kind)(**kwargs, severity=entry.get("severity", "critical")))
        return gx.ExpectationSuite(name=self.name, expectations=built)

    def withheld_domains(self, description: str | None, source_files: list[str]) -> tuple[str, ...]:
        """Domains a critical failure withholds: the expectation's own `withholds`, else those of the suite's
        report for the departments of the failing files, else the suite's `withholds`, where `{department}`
        becomes the departments of the failing files."""
        entry = next((e for e in self.expectations if e["kwargs"].get("description") == description), {})
        departments = sorted({path.split("/", 1)[0] for path in source_files if path and "/" in path})
        if self.report_type and not entry.get("withholds"):
            return delivery_domains(self.report_type, departments)
        domains = []
        for domain in entry.get("withholds") or self.withholds:
            if "{department}" in domain:
                domains += [domain.format(department=d) for d in departments] or [domain.format(department="*")]
            else:
                domains.append(domain)
        return tuple(domains)


def load_suites() -> list[SuiteSpec]:
    specs = []
    for path in sorted(SUITES_DIR.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        meta = document["meta"]
        specs.append(
            SuiteSpec(
                name=document["name"],
                schema=meta["schema"],
                table=meta["table"],
                withholds=tuple(meta.get("withholds", ())),
                expectations=tuple(document["expectations"]),
                report_type=meta.get("report_type"),
            )
        )
    return specs


def completeness_suite() -> SuiteSpec:
    """One check per expected monthly delivery: a loaded file for the newest period any department reported."""
    expectations = []
    for row in seed("expected_deliveries"):
        if row["frequency"] != "monthly":
            continue
        department, report = row["department_code"], row["report_type"]
        if not re.fullmatch(r"[a-z0-9]+", department):  # it is written into the check's SQL below
            raise ValueError(f"expected_deliveries: department code {department!r} is not [a-z0-9]+")
        expectations.append(
            {
                "type": "unexpected_rows_expectation",
                "severity": "critical",
                "withholds": row["alert_domains"].split("|"),
                "kwargs": {
                    "description": f"{row['description']} ({department}) delivered for the newest period",
                    "unexpected_rows_query": (
                        "with newest as (select max(period_year * 100 + period_month) as period from {batch} "  # noqa: S608 - department codes of the seed, checked as [a-z0-9]+ above
                        "where status = 'loaded' and period_month is not null and as_of_date is null) "
                        f"select newest.period, '{department}/' as source_file from newest "
                        # 统计局 and 工信局 report January together with February (1-2月): nothing is due
                        # before the report's first month of the year.
                        f"where newest.period is not null and newest.period % 100 >= {int(row['first_month_of_year'])} "
                        # GX substitutes {batch} with an aliased subquery: no alias of our own here.
                        "and not exists (select 1 from {batch} "
                        f"where status = 'loaded' and department_code = '{department}' "
                        f"and report_type = '{report}' "
                        "and period_year * 100 + period_month = newest.period)"
                    ),
                },
            }
        )
    return SuiteSpec(
        name="completeness", schema="raw", table="load_audit", withholds=(), expectations=tuple(expectations)
    )


def ledger_size_suite() -> SuiteSpec:
    """The newest weekly project ledger lists at least ECON_LEDGER_MIN_SHARE (default 50 %) of the projects
    of the ledger before it. A ledger that suddenly lists far fewer is a truncated upload or the wrong
    sheet, not a week in which most projects vanished: critical, so the gate withholds the project alerts
    instead of treating every missing project as resolved."""
    share = float(load_ingest_limits().ledger_min_share)  # a number, written into the query as one
    return SuiteSpec(
        name="project_ledger_size",
        schema="staging",
        table="stg_fgj__project_ledger",
        withholds=("projects",),
        expectations=(
            {
                "type": "unexpected_rows_expectation",
                "severity": "critical",
                "kwargs": {
                    "description": (
                        f"the newest 重点项目调度台账 lists at least {share:.0%} of the projects of the previous one "
                        "(ECON_LEDGER_MIN_SHARE): fewer means a truncated upload or the wrong sheet"
                    ),
                    "unexpected_rows_query": (
                        "with ledgers as (select as_of_date, count(distinct project_code) as projects, "  # noqa: S608 - only a float setting is interpolated
                        "string_agg(distinct source_file, ', ') as source_file from {batch} group by as_of_date), "
                        "ordered as (select ledgers.*, lag(as_of_date) over (order by as_of_date) as previous_as_of, "
                        "lag(projects) over (order by as_of_date) as previous_projects from ledgers) "
                        "select as_of_date, projects, previous_as_of, previous_projects, source_file from ordered "
                        "where as_of_date = (select max(as_of_date) from ledgers) "
                        f"and projects < previous_projects * {share!r}"
                    ),
                },
            },
        ),
    )
