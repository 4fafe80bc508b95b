"""Bad deliveries stop exactly the alerts they would corrupt, and the data team is told what failed."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from econ_monitor import pipeline
from tests.conftest import Mailbox
from tests.support import load_and_build, rows

NEWEST_LEDGER = Path("fgj") / "重点项目调度台账_2025-09-26.xlsx"
DATA_TEAM = "data-team@jiaozhou.example"


def _edit_newest_ledger(landing: Path, edit) -> None:
    path = landing / NEWEST_LEDGER
    workbook = openpyxl.load_workbook(path)
    edit(workbook.active)
    workbook.save(path)


def _run(conn, url, landing, mailbox) -> dict:
    load_and_build(conn, url, landing)
    return _check_and_alert()


def _check_and_alert() -> dict:
    gate = pipeline.quality_gate("test-run")
    alerts = pipeline.raise_alerts(gate["withheld_domains"])
    pipeline.deliver_mail()
    return {"gate": gate, "alerts": alerts}


def _data_team_mail(mailbox: Mailbox) -> str:
    (mail,) = mailbox.to(DATA_TEAM)
    return Mailbox.text(mail)


@pytest.mark.sample_built  # the sample loaded and built as the run leaves it: the gate, alerts and mail
def test_the_sample_passes_every_check(conn, warehouse, mailbox):
    outcome = _check_and_alert()
    assert outcome["gate"]["status"] == "passed" and outcome["gate"]["checked"] > 40
    assert not mailbox.to(DATA_TEAM)
    stored = rows(conn, "SELECT success FROM monitor.quality_results WHERE run_id = 'test-run' AND suite = 'summary'")
    assert stored == [(True,)]


def test_a_missing_department_withholds_its_indicators_only(conn, warehouse, landing, mailbox):
    (landing / "swj" / "商务局_指标报送_202509.csv").unlink()
    outcome = _run(conn, warehouse, landing, mailbox)
    assert outcome["gate"]["withheld_domains"] == ["indicators/swj"]
    domains = {d for (d,) in rows(conn, "SELECT DISTINCT domain FROM monitor.alerts")}
    assert "indicators/swj" not in domains and "indicators/tjj" in domains
    body = _data_team_mail(mailbox)
    assert "商务局" in body and "raw.load_audit" in body
    # the commerce vice-mayor still hears about 统计局's figures
    assert "货物进出口总额" in Mailbox.text(mailbox.to("commerce-vice-mayor@jiaozhou.example")[0])


def test_a_ledger_in_wan_yuan_under_a_yi_yuan_header_withholds_project_alerts(conn, warehouse, landing, mailbox):
    _edit_newest_ledger(landing, lambda sheet: setattr(sheet["G2"], "value", "总投资（亿元）"))
    outcome = _run(conn, warehouse, landing, mailbox)
    assert set(outcome["gate"]["withheld_domains"]) == {"projects", "issues"}
    assert not rows(conn, "SELECT 1 FROM monitor.alerts WHERE domain IN ('projects', 'issues')")
    body = _data_team_mail(mailbox)
    assert "staging.stg_fgj__project_ledger.total_investment_wan" in body
    assert "fgj/重点项目调度台账_2025-09-26.xlsx" in body
    assert "JZXM" not in Mailbox.text(mailbox.to("agri-vice-mayor@jiaozhou.example")[0])


def test_a_duplicate_project_code_is_critical(conn, warehouse, landing, mailbox):
    _edit_newest_ledger(landing, lambda sheet: setattr(sheet["B4"], "value", sheet["B3"].value))
    outcome = _run(conn, warehouse, landing, mailbox)
    assert "projects" in outcome["gate"]["withheld_domains"]
    body = _data_team_mail(mailbox)
    assert "one row per project_code + as_of_date" in body and "JZXM-2025-0001" in body


def test_an_unknown_industry_category_is_critical(conn, warehouse, landing, mailbox):
    _edit_newest_ledger(landing, lambda sheet: setattr(sheet["E3"], "value", "未来产业类"))
    outcome = _run(conn, warehouse, landing, mailbox)
    assert "projects" in outcome["gate"]["withheld_domains"]
    body = _data_team_mail(mailbox)
    assert "industry_category" in body and "未来产业类" in body


def test_an_unknown_leader_is_a_warning_and_routes_to_the_dispatch_centre(conn, warehouse, landing, mailbox):
    # JZXM-2024-0158 is overdue to start (red); its 包挂领导 becomes a title nobody has.
    def retitle(sheet):
        for row in sheet.iter_rows(min_row=3):
            if row[1].value == "JZXM-2024-0158":
                row[16].value = "分管城建副市长"

    _edit_newest_ledger(landing, retitle)
    outcome = _run(conn, warehouse, landing, mailbox)
    assert outcome["gate"]["status"] == "passed_with_warnings" and outcome["gate"]["withheld_domains"] == []
    assert "分管城建副市长" in _data_team_mail(mailbox)
    (dispatch,) = mailbox.to("dispatch@jiaozhou.example")
    assert "JZXM-2024-0158" in Mailbox.text(dispatch)


def test_january_expects_no_report_that_only_starts_with_1_2_yue(conn, warehouse, tmp_path, mailbox):
    """统计局 and 工信局 report January together with February: a January delivery is complete without them."""
    from econ_monitor_demo import generate

    generate((2025, 1), (2025, 1), tmp_path / "generated")
    outcome = _run(conn, warehouse, tmp_path / "generated" / "2025-01", mailbox)
    completeness = [f for f in outcome["gate"]["failures"] if "delivered for the newest period" in f]
    assert completeness == [] and outcome["gate"]["withheld_domains"] == []
