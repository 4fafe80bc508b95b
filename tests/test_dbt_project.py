"""The dbt project's own tests: the warning rules' unit tests (mocked inputs, each rule at its boundaries)
and the data tests pass, and the documentation (dbt docs generate) builds."""

from __future__ import annotations

import pytest

from econ_monitor.transform import run_dbt

MARTS = (
    "mart_indicator_monitoring",
    "mart_industry_chain_monitoring",
    "mart_project_targets",
    "mart_project_progress",
    "mart_issue_monitoring",
    "mart_enterprise_monitoring",
    "mart_current_warnings",
)


@pytest.mark.slow
def test_unit_tests_pass_and_docs_generate(warehouse):
    # Unit tests read the column types of a model's inputs from the database, so those must exist: a full
    # build on the freshly migrated warehouse (raw tables empty) creates seeds, views and marts, and runs
    # every unit test before its model and every data test after it. run_dbt raises on any failure.
    results = run_dbt(["build"]).results
    by_type: dict[str, list] = {}
    for result in results:
        by_type.setdefault(result.node.resource_type, []).append(result)

    unit_tests = {r.node.name: str(r.status) for r in by_type.get("unit_test", [])}
    assert len(unit_tests) >= 9, unit_tests
    assert set(unit_tests.values()) == {"pass"}, unit_tests
    for rule in (
        "indicator_growth",
        "indicator_cumulative",
        "chain_output_behind",
        "project_count_behind",
        "project_rules",
        "issue_overdue",
        "enterprise_decline",
        "current_warnings",
    ):
        assert any(name.startswith(rule) for name in unit_tests), rule

    data_tests = {r.node.name: str(r.status) for r in by_type.get("test", [])}
    assert len(data_tests) > 100 and set(data_tests.values()) == {"pass"}, data_tests

    catalog = run_dbt(["docs", "generate"])
    for mart in MARTS:
        node = catalog.nodes[f"model.econ_monitor.{mart}"]
        assert node.metadata.schema == "marts" and node.columns, mart
