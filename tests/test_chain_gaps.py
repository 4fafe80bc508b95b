"""自动找出缺口 (issue #16) on the sample delivery: the chains behind target list the key enterprises that
drag them, the changes shown add up to the key enterprises' total, the digest and the bulletin name the top
three, and an enterprise whose chain is in no catalogue is a quality warning, not dropped."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from econ_monitor import pipeline
from tests.conftest import Mailbox
from tests.support import load_and_build, rows

ENTERPRISE_FILE = Path("tjj") / "重点企业产值月报_202509.csv"
INDUSTRY_VICE_MAYOR = "industry-vice-mayor@jiaozhou.example"
DATA_TEAM = "data-team@jiaozhou.example"


@pytest.fixture(scope="module")
def db(sample_warehouse):
    url, connection = sample_warehouse
    return url, connection


def _behind_target(conn) -> list[tuple[str, str]]:
    return rows(
        conn,
        """SELECT chain_code, chain_name FROM marts.mart_industry_chain_monitoring
                         WHERE year = 2025 AND period_month = 9 AND warning_level IN ('yellow', 'red')
                         ORDER BY chain_code""",
    )


def test_chains_behind_target_list_their_declining_enterprises_and_the_changes_add_up(db):
    from econ_monitor.reports.gaps import chain_gap_section

    _, conn = db
    behind = _behind_target(conn)
    assert len(behind) >= 5
    with_decliners = 0
    for chain_code, chain_name in behind:
        enterprises = rows(
            conn,
            """SELECT change_wan, chain_change_wan, drag_rank FROM marts.mart_chain_gap_attribution
               WHERE chain_code = %s AND year = 2025 AND period_month = 9 ORDER BY drag_rank NULLS LAST""",
            (chain_code,),
        )
        assert enterprises, chain_name
        total = enterprises[0][1]
        assert sum(change for change, _, _ in enterprises if change is not None) == total, chain_name
        declining = [(change, rank) for change, _, rank in enterprises if change is not None and change < 0]
        assert [rank for _, rank in declining] == list(range(1, len(declining) + 1)), chain_name
        assert [change for change, _ in declining] == sorted(change for change, _ in declining), chain_name
        with_decliners += bool(declining)

        # What the bulletin shows for the chain: the top three, then one line each for the other declining
        # and the growing enterprises; together they are the key enterprises' total.
        (chain,) = rows(
            conn,
            """SELECT chain_code, year, period_month FROM marts.mart_industry_chain_monitoring
                                 WHERE chain_code = %s AND year = 2025 AND period_month = 9""",
            (chain_code,),
        )
        section = chain_gap_section(conn, dict(zip(("chain_code", "year", "period_month"), chain, strict=False)))
        shown = [row["change_wan"] for row in section["drags"]]
        shown += [section["other_decliners"]["change_wan"], section["growers"]["change_wan"]]
        assert sum(shown) == section["total_change_wan"] == total, chain_name
        assert len(section["drags"]) == min(3, len(declining))
    assert with_decliners >= 5


def test_last_years_base_comes_from_the_official_growth_rate(db):
    _, conn = db
    checked = rows(
        conn,
        """SELECT ytd_output_wan, ytd_growth_pct, prior_ytd_output_wan, change_wan FROM marts.mart_chain_gap_attribution
           WHERE year = 2025 AND period_month = 9 AND base_note IS NULL""",
    )
    assert len(checked) > 900
    for ytd, growth, prior, change in checked:
        assert prior == round(ytd / (1 + growth / 100), 4)
        assert change == ytd - prior


def test_the_bulletin_names_the_top_three_per_chain_behind_target_with_a_chart(db):
    from econ_monitor.reports import monthly_bulletin
    from econ_monitor.reports.render import signed

    _, conn = db
    report = monthly_bulletin(conn, 2025, 9)
    sections = {section["chain_code"]: section for section in report.data["chain_gaps"]}
    assert {code for code, _ in _behind_target(conn)} == set(sections)
    for chain_code, section in sections.items():
        top = rows(
            conn,
            """SELECT enterprise_name, change_wan, ytd_growth_pct, leader_title FROM marts.mart_chain_gap_attribution
               WHERE chain_code = %s AND year = 2025 AND period_month = 9 AND drag_rank <= 3 ORDER BY drag_rank""",
            (chain_code,),
        )
        for name, change, _growth, leader in top:
            for body in (report.html, report.text):
                assert name in body and signed(change, 1) in body and leader in body, (chain_code, name)
        assert report.charts[f"chain_gap_{chain_code}"].startswith(b"\x89PNG")
        assert signed(section["total_change_wan"], 1) in report.html
    # the year-end projection sits beside the chain's gap
    (projected, target) = rows(
        conn,
        """SELECT projected_at_current_pace, target_value FROM marts.mart_year_end_projection
           WHERE entity_type = 'industry_chain' AND entity_code = 'new_energy' AND year = 2025 AND period_month = 9""",
    )[0]
    assert projected == Decimal("126.6667") and target == 150
    assert "按当前进度预计全年完成 126.67 亿元（目标 150 亿元）" in report.html
    assert report.html.count('src="data:image/png;base64,') == len(report.charts)


def test_the_digest_names_the_top_three_enterprises_dragging_each_chain(db, mailbox, monkeypatch):
    from econ_monitor.reports.gaps import chain_drags, drag_line

    url, conn = db
    monkeypatch.setenv("ECON_WAREHOUSE_URL", url)
    gate = pipeline.quality_gate("chain-gaps")
    pipeline.raise_alerts(gate["withheld_domains"])
    pipeline.deliver_mail()

    (mail,) = mailbox.to(INDUSTRY_VICE_MAYOR)
    text, html = Mailbox.text(mail), Mailbox.html(mail)
    chains = rows(
        conn,
        """SELECT entity_code, entity_name FROM monitor.alerts
                           WHERE rule_code = 'chain_output_behind' AND leader_code = 'L03' AND level IN ('yellow', 'red')""",
    )
    assert len(chains) >= 3
    named = 0
    for chain_code, chain_name in chains:
        drags = chain_drags(conn, chain_code, 2025)
        assert len(drags) <= 3 and all(row["period_month"] == 9 for row in drags)
        for row in drags:
            line = drag_line(row)
            assert line in text and line in html, (chain_name, line)
            named += 1
    assert named >= 6
    # e.g. 新能源 (red): its largest fall first, with the 包挂领导 who should visit
    (first,) = [row for row in chain_drags(conn, "new_energy", 2025, 9) if row["drag_rank"] == 1]
    assert text.index(drag_line(first)) > text.index("新能源")
    # where the year will end, beside the gap (the mart's projection)
    assert "按当前进度预计全年完成 126.67 亿元（目标 150 亿元）" in text
    assert "按当前进度预计全年完成 126.67 亿元（目标 150 亿元）" in html


def _row_versions(conn, month: int) -> set:
    return {
        xmin
        for (xmin,) in rows(
            conn, "SELECT xmin::text FROM marts.mart_chain_gap_attribution WHERE period_month = %s", (month,)
        )
    }


def test_a_new_month_rebuilds_that_month_only_and_a_new_alias_every_month(db, tmp_path):
    from econ_monitor.transform import run_dbt
    from tests.conftest import SAMPLE
    from tests.support import load

    url, conn = db
    september = _row_versions(conn, 9)
    october = tmp_path / "october" / "tjj" / "重点企业产值月报_202510.csv"
    october.parent.mkdir(parents=True)
    # October: the September figures one point lower (a byte-identical file would load nothing)
    with (
        (SAMPLE / ENTERPRISE_FILE).open(encoding="gb18030", newline="") as source,
        october.open("w", encoding="gb18030", newline="") as target,
    ):
        header, *records = list(csv.reader(source))
        csv.writer(target).writerows([header] + [[*r[:6], f"{float(r[6]) - 1:.1f}", r[7]] for r in records])
    load(conn, october.parent.parent)
    build_gaps = ["build", "--select", "mart_chain_gap_attribution", "--exclude-resource-type", "unit_test"]
    run_dbt(build_gaps, url)
    assert _row_versions(conn, 9) == september  # not recomputed
    assert rows(conn, "SELECT period_month, count(*) FROM marts.mart_chain_gap_attribution GROUP BY 1 ORDER BY 1") == [
        (9, 1000),
        (10, 1000),
    ]

    # a new alias in the catalogue may match enterprises of any month: every month is recomputed
    conn.execute(
        "UPDATE reference.industry_chains SET aliases = aliases || '|新能源汽车' WHERE chain_code = 'new_energy'"
    )
    conn.commit()
    try:
        run_dbt(build_gaps, url)
        assert not _row_versions(conn, 9) & september
    finally:
        conn.execute("UPDATE reference.industry_chains SET aliases = '新能源产业链' WHERE chain_code = 'new_energy'")
        conn.commit()
        run_dbt(build_gaps, url)


def test_an_enterprise_whose_chain_is_not_in_the_catalogue_is_a_warning_not_dropped(conn, warehouse, landing, mailbox):
    # 海洋物联网 (red) has one key enterprise; it now reports a chain the catalogue does not know.
    path = landing / ENTERPRISE_FILE
    lines = path.read_bytes().decode("gb18030").splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if line.split(",")[2] == "海洋物联网"]
    fields = lines[index].split(",")
    credit_code, fields[2] = fields[0], "未来产业"
    lines[index] = ",".join(fields)
    path.write_bytes("".join(lines).encode("gb18030"))

    load_and_build(conn, warehouse, landing)
    gate = pipeline.quality_gate("unknown-chain")
    pipeline.raise_alerts(gate["withheld_domains"])
    pipeline.deliver_mail()

    assert gate["status"] == "passed_with_warnings" and gate["withheld_domains"] == []
    (mail,) = mailbox.to(DATA_TEAM)
    body = Mailbox.text(mail)
    assert "未来产业" in body and credit_code in body and "tjj/重点企业产值月报_202509.csv" in body
    assert rows(
        conn,
        """SELECT chain_code, chain_name, chain_matched FROM marts.mart_chain_gap_attribution
                         WHERE credit_code = %s""",
        (credit_code,),
    ) == [(None, "未来产业", False)]
    # the chain warnings still go out
    assert mailbox.to(INDUSTRY_VICE_MAYOR)
    # a chain behind target without key enterprises says so, with no figures
    from econ_monitor.reports import monthly_bulletin

    report = monthly_bulletin(conn, 2025, 9)
    (section,) = [s for s in report.data["chain_gaps"] if s["chain_code"] == "marine_iot"]
    assert section["key_enterprises"] == 0 and "chain_gap_marine_iot" not in report.charts
    assert "海洋物联网（红色）：本月重点企业产值月报中没有该产业链的企业" in report.text


def test_chain_warnings_name_no_enterprise_while_the_enterprise_report_is_withheld(conn, warehouse, landing, mailbox):
    path = landing / ENTERPRISE_FILE
    lines = path.read_bytes().decode("gb18030").splitlines(keepends=True)
    fields = lines[1].split(",")
    fields[5] = "20000000"  # 2000亿 of output for one enterprise: a critical range check fails
    lines[1] = ",".join(fields)
    path.write_bytes("".join(lines).encode("gb18030"))

    load_and_build(conn, warehouse, landing)
    gate = pipeline.quality_gate("enterprises-withheld")
    pipeline.raise_alerts(gate["withheld_domains"])
    pipeline.deliver_mail()

    assert gate["withheld_domains"] == ["enterprises"]
    (mail,) = mailbox.to(INDUSTRY_VICE_MAYOR)
    text = Mailbox.text(mail)
    assert "产业链产值落后于时序进度" in text and "新能源" in text
    assert "拖累最大的重点企业" not in text and "拖累最大的重点企业" not in Mailbox.html(mail)
