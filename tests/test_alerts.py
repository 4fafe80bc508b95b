"""Leaders' mail from the sample delivery: one digest each, red items named, nothing lost, nothing twice."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from econ_monitor import pipeline
from econ_monitor.alerts import state
from tests.conftest import EXPECTED, SAMPLE, Mailbox
from tests.support import load_and_build, rows

# Every test starts from the sample delivery loaded and the marts built (`warehouse` is a copy of it).
pytestmark = pytest.mark.sample_built


def _run_alerts_and_mail() -> dict:
    raised = pipeline.raise_alerts()
    return {**raised, **pipeline.deliver_mail()}


def _names(message) -> str:
    return Mailbox.text(message) + Mailbox.html(message)


def test_each_leader_gets_one_digest_naming_their_warnings(conn, mailbox):
    outcome = _run_alerts_and_mail()
    assert outcome["sent"] == len(EXPECTED["recipients"])
    for address, expected in EXPECTED["recipients"].items():
        mails = mailbox.to(address)
        assert len(mails) == 1, address
        body = _names(mails[0])
        for item in expected["red"] + expected["yellow"]:
            assert any(name in body for name in item), (address, item)
        reds = len(expected["red"])
        assert f"红色{reds}项" in mails[0]["Subject"], mails[0]["Subject"]
    # Data problems go to the data team only; the sample has none, and no leader is unknown.
    assert not mailbox.to("data-team@jiaozhou.example")
    assert not mailbox.to("dispatch@jiaozhou.example")


def test_growth_indicators_are_described_as_growth_rates(conn, mailbox):
    _run_alerts_and_mail()
    body = Mailbox.text(mailbox.to("mayor@jiaozhou.example")[0])
    # GDP's absolute value is in 亿元, but its warning is about growth: 5.4% against 5.6%.
    assert "实际 5.4%，目标 5.6%，差 -0.2 个百分点" in body


def test_red_items_come_before_yellow_items(conn, mailbox):
    _run_alerts_and_mail()
    body = Mailbox.text(mailbox.to("tech-vice-mayor@jiaozhou.example")[0])
    assert body.rindex("[红色预警]") < body.index("[黄色预警]")


def test_a_second_run_sends_nothing(conn, mailbox):
    _run_alerts_and_mail()
    first = len(mailbox.messages)
    again = _run_alerts_and_mail()
    assert (again["sent"], again["digests_queued"], len(mailbox.messages)) == (0, 0, first)


def test_mail_server_down_keeps_mails_pending_and_sends_them_once_later(conn, mailbox):
    mailbox.stop()
    down = _run_alerts_and_mail()
    assert (down["sent"], down["pending"]) == (0, len(EXPECTED["recipients"]))
    mailbox.start()
    # The retry waits for its backoff; let that time pass.
    conn.execute("UPDATE monitor.outbox SET next_attempt_at = now() WHERE status = 'pending'")
    up = _run_alerts_and_mail()
    assert (up["sent"], up["pending"]) == (len(EXPECTED["recipients"]), 0)
    assert _run_alerts_and_mail()["sent"] == 0
    assert sorted(m["To"] for m in mailbox.messages) == sorted(EXPECTED["recipients"])


def _corrected_main_report(tmp_path: Path, changes: dict[str, float]) -> Path:
    """A corrected 主要经济指标月报 for the same period (a newer delivery replaces the older one)."""
    landing = tmp_path / "correction"
    (landing / "tjj").mkdir(parents=True)
    original = SAMPLE / "tjj" / "胶州市主要经济指标_2025年1-9月.xlsx"
    workbook = openpyxl.load_workbook(original)
    sheet = workbook.active
    for row in sheet.iter_rows(min_row=5):
        if row[0].value in changes:
            row[5].value = changes[row[0].value]
    workbook.save(landing / "tjj" / "胶州市主要经济指标_2025年1-9月（更正）.xlsx")
    return landing


def test_a_worsened_warning_is_sent_again(conn, warehouse, mailbox, tmp_path):
    _run_alerts_and_mail()
    before = len(mailbox.to("industry-vice-mayor@jiaozhou.example"))
    # 规上工业增加值 7.8% vs target 9%: yellow; corrected to 6.5%: −2.5 pp, red.
    load_and_build(conn, warehouse, _corrected_main_report(tmp_path, {"规模以上工业增加值": 6.5}))
    outcome = _run_alerts_and_mail()
    assert outcome["worsened"] == 1
    mails = mailbox.to("industry-vice-mayor@jiaozhou.example")
    assert len(mails) == before + 1
    assert "规模以上工业增加值" in Mailbox.text(mails[-1]) and "红色1项" in mails[-1]["Subject"]
    assert len(mailbox.messages) == len(EXPECTED["recipients"]) + 1


def test_a_warning_whose_data_recovers_closes_itself(conn, warehouse, mailbox, tmp_path):
    _run_alerts_and_mail()
    load_and_build(conn, warehouse, _corrected_main_report(tmp_path, {"数字经济核心产业增加值": 15.5}))
    outcome = _run_alerts_and_mail()
    assert outcome["resolved"] == 1 and outcome["sent"] == 0
    (alert,) = rows(
        conn,
        "SELECT status, closed_by FROM monitor.alerts WHERE alert_key = 'indicator_off_target:digital_core_va:2025'",
    )
    assert alert == ("closed", "data")
    events = [
        e
        for (e,) in rows(
            conn,
            "SELECT event_type FROM monitor.alert_events WHERE alert_key = 'indicator_off_target:digital_core_va:2025' ORDER BY event_id",
        )
    ]
    assert events == ["opened", "notified", "resolved_by_data"]


def test_unclaimed_red_warnings_escalate_to_the_next_leader(conn, mailbox):
    _run_alerts_and_mail()
    red_of_l03 = [
        k
        for (k,) in rows(
            conn, "SELECT alert_key FROM monitor.alerts WHERE leader_code = 'L03' AND level = 'red' ORDER BY alert_key"
        )
    ]
    claimed = red_of_l03[0]
    state.claim(conn, claimed, "L03", actor="分管工业副市长")
    # Three days pass without the others being claimed.
    conn.execute("UPDATE monitor.alerts SET episode_notified_at = episode_notified_at - interval '4 days'")
    outcome = _run_alerts_and_mail()
    assert outcome["escalations_queued"] >= 1
    escalation = [m for m in mailbox.to("exec-vice-mayor@jiaozhou.example") if "督办" in m["Subject"]]
    assert len(escalation) == 1
    escalated = {
        k
        for (k,) in rows(
            conn, "SELECT alert_key FROM monitor.alerts WHERE escalated_at IS NOT NULL AND leader_code = 'L03'"
        )
    }
    assert escalated == set(red_of_l03) - {claimed}
    assert _run_alerts_and_mail()["escalations_queued"] == 0


def test_claim_and_close_record_who_and_when(conn):
    pipeline.raise_alerts()
    key = "indicator_off_target:foreign_trade:2025"
    with pytest.raises(state.AlertActionError):
        state.claim(conn, key, "L03", actor="someone else")
    claimed = state.claim(conn, key, "L04", actor="分管商贸副市长")
    assert (claimed["status"], claimed["claimed_by"]) == ("claimed", "分管商贸副市长")
    closed = state.close(conn, key, "L04", actor="分管商贸副市长", note="外贸专班已成立")
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    # A closed warning whose data does not worsen stays closed on the next run.
    pipeline.raise_alerts()
    assert rows(conn, "SELECT status FROM monitor.alerts WHERE alert_key = %s", (key,)) == [("closed",)]


def test_a_project_that_leaves_the_ledger_has_its_warnings_closed(conn, warehouse, mailbox, tmp_path):
    _run_alerts_and_mail()
    key = "project_overdue_start:JZXM-2024-0158"  # red in September (project warnings carry on across years: no year in the key)
    landing = tmp_path / "october"
    (landing / "fgj").mkdir(parents=True)
    workbook = openpyxl.load_workbook(SAMPLE / "fgj" / "重点项目调度台账_2025-09-26.xlsx")
    sheet = workbook.active
    sheet["A1"].value = "胶州市重点项目调度台账（截至2025年10月3日）"
    (row,) = [cells[0].row for cells in sheet.iter_rows(min_row=3) if cells[1].value == "JZXM-2024-0158"]
    sheet.delete_rows(row)
    workbook.save(landing / "fgj" / "重点项目调度台账_2025-10-03.xlsx")
    load_and_build(conn, warehouse, landing)
    outcome = _run_alerts_and_mail()
    assert key in [k for (k,) in rows(conn, "SELECT alert_key FROM monitor.alerts WHERE status = 'closed'")]
    (reason,) = rows(
        conn,
        "SELECT details->>'reason' FROM monitor.alert_events WHERE alert_key = %s AND event_type = 'resolved_by_data'",
        (key,),
    )[0]
    assert "no longer in the newest ledger" in reason
    # every other project stays as it was
    assert outcome["resolved"] == 1
