"""Each fact has one home, its seed: editing the seed file alone changes the next run's mails and reports.

The tests work on a temporary copy of `dbt_project/` and point the platform at it (dbt's project and the
seed loader `econ_monitor.reference` read the same directory), so an edit is a real edit of a seed file,
loaded by a real `dbt seed` into the test's own warehouse, with no code changed and the repository's
seeds untouched. Then they run the steps the DAG runs and read the mail the leaders get (a real SMTP
server) and the report they read.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from econ_monitor import pipeline, reference, transform
from tests.conftest import SAMPLE, Mailbox, new_database
from tests.support import load, load_and_build, rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(server_url: str, tmp_path_factory) -> Iterator[tuple[Path, object]]:
    """A copy of dbt_project the platform runs on, and a warehouse with the sample delivery built from it."""
    from econ_monitor.warehouse import connect

    copy = tmp_path_factory.mktemp("one_home") / "dbt_project"
    shutil.copytree(transform.DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transform, "DBT_PROJECT_DIR", copy)
        patch.setattr(reference, "SEEDS_DIR", copy / "seeds")
        url = new_database(server_url)
        with connect(url) as conn:
            load_and_build(conn, url, SAMPLE)
            yield copy, conn


@contextmanager
def edited_seed(project: Path, name: str, edit) -> Iterator[None]:
    """Edit seeds/<name>.csv row by row (`edit(row)` changes a row in place, or returns extra rows to add)
    and load it with `dbt seed`, as the next run does; the original file is put back afterwards. (Without
    --full-refresh: dbt replaces the rows, where a full refresh would drop the views built on the table.)"""
    path = project / "seeds" / f"{name}.csv"
    original = path.read_bytes()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, table = reader.fieldnames, list(reader)
    for row in list(table):
        table += edit(row) or []
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
    transform.run_dbt(["seed", "--select", name])
    try:
        yield
    finally:
        path.write_bytes(original)
        transform.run_dbt(["seed", "--select", name])


def test_a_leaders_address_and_a_rules_label_edited_in_their_seeds_change_the_next_mails(project, mailbox):
    copy, _ = project

    def new_address(row):
        if row["leader_code"] == "L04":
            row["email"] = "commerce-office@jiaozhou.example"

    def new_label(row):
        if row["rule_code"] == "indicator_off_target":
            row["rule_label"] = "指标低于年度目标"

    with edited_seed(copy, "leaders", new_address), edited_seed(copy, "warning_rules", new_label):
        pipeline.raise_alerts()
        pipeline.deliver_mail()

    assert not mailbox.to("commerce-vice-mayor@jiaozhou.example")
    (digest,) = mailbox.to("commerce-office@jiaozhou.example")
    body = Mailbox.text(digest)
    assert "货物进出口总额" in body  # L04's red indicator, now under its new name of rule
    assert "指标低于年度目标" in body and "指标未达目标" not in body


def test_a_threshold_edited_in_its_seed_changes_the_dispatch(project):
    from econ_monitor.reports import weekly_dispatch

    copy, conn = project
    before = weekly_dispatch(conn)
    assert "21 天以上未推进的项目" in before.html
    # The threshold moves just past the least stale project of the list: that project leaves it.
    least = min(before.data["stale_projects"], key=lambda project: project["stale_days"])
    threshold = least["stale_days"] + 1

    def later(row):
        if row["rule_code"] == "project_stale":
            row["yellow_threshold"] = str(threshold)

    with edited_seed(copy, "warning_rules", later):
        transform.run_dbt(["run", "--select", "mart_project_progress"])
        after = weekly_dispatch(conn)
    transform.run_dbt(["run", "--select", "mart_project_progress"])

    assert f"{threshold} 天以上未推进的项目" in after.html and "21 天以上" not in after.html
    listed = {project["project_code"] for project in after.data["stale_projects"]}
    assert listed == {p["project_code"] for p in before.data["stale_projects"] if p["stale_days"] >= threshold}
    assert least["project_code"] not in listed


def test_a_unit_added_to_its_seed_is_converted_at_ingest(project, tmp_path):
    copy, conn = project
    # A ledger a week later whose money columns are in 千元, a unit the seed does not list yet.
    workbook = openpyxl.load_workbook(SAMPLE / "fgj" / "重点项目调度台账_2025-09-26.xlsx")
    sheet = workbook.active
    sheet["A1"] = "胶州市重点项目调度台账（截至2025年10月3日）"
    for cell in sheet[2]:
        if isinstance(cell.value, str):
            cell.value = cell.value.replace("（万元）", "（千元）")
    landing = tmp_path / "landing"
    (landing / "fgj").mkdir(parents=True)
    workbook.save(landing / "fgj" / "重点项目调度台账_2025-10-03.xlsx")

    def thousand_yuan(row):
        if row["from_unit"] == "元" and row["to_unit"] == "万元":
            return [{"from_unit": "千元", "to_unit": "万元", "factor": "0.1"}]
        return None

    with edited_seed(copy, "unit_conversions", thousand_yuan):
        (result,) = load(conn, landing)
    assert result.status == "loaded", result.reason
    assert rows(
        conn,
        """SELECT total_investment_wan, ytd_investment_wan FROM raw.project_ledger
           WHERE as_of_date = '2025-10-03' AND project_code = 'JZXM-2025-0001'""",
    ) == [(Decimal("3000.0"), Decimal("900.164"))]
