"""周调度 and 月通报 built from the sample delivery: what they show equals the marts and monitor.alerts,
publishing mails each leader once per period with the PDF attached, data is escaped, and the HTML renders
in a real browser. The PDF itself is read back in test_report_pdf.py."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import warnings
from datetime import date
from pathlib import Path

import psycopg
import pytest

from econ_monitor.settings import PROJECT_DIR
from tests.support import rows

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def db(sample_warehouse):
    """The sample warehouse with monitor.alerts filled, as after a delivery run."""
    from econ_monitor import pipeline

    url, connection = sample_warehouse
    os.environ["ECON_WAREHOUSE_URL"] = url
    pipeline.raise_alerts()
    return connection


@pytest.fixture(scope="module")
def built(db):
    """Both reports, built once, with every warning raised while building them."""
    from econ_monitor.reports import monthly_bulletin, weekly_dispatch

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reports = {"monthly": monthly_bulletin(db), "weekly": weekly_dispatch(db)}
    return reports, [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def bulletin(built):
    return built[0]["monthly"]


@pytest.fixture(scope="module")
def dispatch(built):
    return built[0]["weekly"]


def _visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


# ------------------------------------------------------------------------------------- 月通报


def test_bulletin_defaults_to_the_newest_month_with_data(bulletin):
    assert (bulletin.kind, bulletin.period, bulletin.period_label) == ("monthly_bulletin", "2025-09", "2025年1-9月")
    assert bulletin.title == "胶州市经济运行月通报（2025年1-9月）"
    assert bulletin.html.startswith("<!DOCTYPE html>") and bulletin.html.rstrip().endswith("</html>")


def test_board_has_every_catalogue_indicator_in_the_work_plan_order(db, bulletin):
    board = bulletin.data["indicators"]
    (catalogue_size,) = rows(db, "SELECT count(*) FROM reference.indicators")[0]
    assert len(board) == catalogue_size
    with (PROJECT_DIR / "dbt_project" / "seeds" / "indicators.csv").open(encoding="utf-8") as handle:
        assert [r["indicator_code"] for r in board] == [row["indicator_code"] for row in csv.DictReader(handle)]
    marts = {
        code: (level, actual, target, deviation)
        for code, level, actual, target, deviation in rows(
            db,
            """SELECT indicator_code, warning_level, actual_value, target_value, deviation_pp
           FROM marts.mart_indicator_monitoring WHERE year = 2025 AND period_month = 9""",
        )
    }
    for row in board:
        assert (row["warning_level"], row["actual_value"], row["target_value"], row["deviation_pp"]) == marts[
            row["indicator_code"]
        ]
        assert row["indicator_name"] in bulletin.html and row["indicator_name"] in bulletin.text


def test_every_red_indicator_of_september_is_listed_as_red(db, bulletin):
    reds = rows(
        db,
        """SELECT indicator_code, indicator_name FROM marts.mart_indicator_monitoring
                         WHERE year = 2025 AND period_month = 9 AND warning_level = 'red'""",
    )
    assert reds  # the sample delivery has red indicators
    shown = {r["indicator_code"] for r in bulletin.data["indicators"] if r["warning_level"] == "red"}
    assert shown == {code for code, _ in reds}
    for _, name in reds:
        assert f"[红色] {name}：" in bulletin.text
        row_html = next(tr for tr in bulletin.html.split("<tr") if f"<strong>{name}</strong>" in tr)
        assert "● 红色" in row_html
    assert bulletin.data["indicator_levels"]["red"] == len(reds)


def test_chains_and_project_counts_equal_the_marts(db, bulletin):
    chains = rows(
        db,
        """SELECT chain_code, warning_level, ytd_output FROM marts.mart_industry_chain_monitoring
                           WHERE year = 2025 AND period_month = 9""",
    )
    assert len(bulletin.data["chains"]) == len(chains) == 15
    assert {(c["chain_code"], c["warning_level"], c["ytd_output"]) for c in bulletin.data["chains"]} == set(chains)

    (newest,) = rows(
        db,
        """SELECT max(as_of_date) FROM marts.mart_project_targets
                              WHERE as_of_date BETWEEN '2025-09-01' AND '2025-09-30'""",
    )[0]
    assert bulletin.data["project_targets_as_of"] == newest
    categories = rows(
        db,
        """SELECT industry_category, signed_count, signed_target, started_count, started_target
                               FROM marts.mart_project_targets WHERE as_of_date = %s""",
        (newest,),
    )
    shown = [
        (r["industry_category"], r["signed_count"], r["signed_target"], r["started_count"], r["started_target"])
        for r in bulletin.data["project_targets"]
    ]
    assert sorted(shown) == sorted(categories)
    assert shown[-1][0] == "合计"  # categories in the work plan's order, the total last


def test_slowest_projects_issues_and_changes(db, bulletin):
    slowest = rows(
        db,
        """SELECT project_code FROM marts.mart_project_progress
                            WHERE as_of_date = '2025-09-26' AND stage = '已开工' AND investment_pace_ratio IS NOT NULL
                            ORDER BY investment_pace_ratio, project_code LIMIT 10""",
    )
    assert [r["project_code"] for r in bulletin.data["slowest_projects"]] == [code for (code,) in slowest]
    assert len(slowest) == 10

    overdue = rows(
        db,
        """SELECT issue_code, responsible_unit FROM marts.mart_issue_monitoring
                            WHERE as_of_date = (SELECT max(as_of_date) FROM marts.mart_issue_monitoring)
                              AND overdue_days > 0""",
    )
    assert overdue
    groups = bulletin.data["overdue_issues_by_unit"]
    assert sorted((i["issue_code"], g["unit"]) for g in groups for i in g["issues"]) == sorted(overdue)

    # The sample has only September: no month to compare with, and the bulletin says so.
    assert not bulletin.data["previous_period_available"]
    assert "不作环比" in bulletin.text


# ------------------------------------------------------------------------------------- 周调度


def test_dispatch_lists_every_open_warning_per_level(db, dispatch):
    assert (dispatch.kind, dispatch.period) == ("weekly_dispatch", "2025-09-26")
    expected = dict(
        rows(db, "SELECT level, count(*) FROM monitor.alerts WHERE status IN ('open', 'claimed') GROUP BY level")
    )
    assert expected.get("red") and expected.get("yellow")
    assert dispatch.data["open_alert_levels"] == {"red": expected["red"], "yellow": expected["yellow"]}
    keys = {key for (key,) in rows(db, "SELECT alert_key FROM monitor.alerts WHERE status IN ('open', 'claimed')")}
    assert {a["alert_key"] for a in dispatch.data["open_alerts"]} == keys
    per_leader = dict(
        rows(
            db,
            """SELECT leader_code, count(*) FROM monitor.alerts
                                    WHERE status IN ('open', 'claimed') GROUP BY leader_code""",
        )
    )
    assert {g["leader_code"]: g["red"] + g["yellow"] for g in dispatch.data["alerts_per_leader"]} == per_leader
    assert f"红色 {expected['red']} 项" in dispatch.text and f"黄色 {expected['yellow']} 项" in dispatch.text
    # First dispatch: every warning is new since the previous ledger.
    assert len(dispatch.data["new_alerts"]) == len(keys)


def test_dispatch_movements_stale_projects_and_issues(db, dispatch):
    assert dispatch.data["previous_ledger"] == date(2025, 9, 19)
    (added,) = rows(
        db,
        """SELECT sum(c.ytd_investment_wan - p.ytd_investment_wan)
                             FROM marts.mart_project_progress c JOIN marts.mart_project_progress p USING (project_code)
                             WHERE c.as_of_date = '2025-09-26' AND p.as_of_date = '2025-09-19'
                               AND c.ytd_investment_wan > p.ytd_investment_wan""",
    )[0]
    assert dispatch.data["investment_added_total_wan"] == added
    stale = rows(
        db,
        """SELECT project_code FROM marts.mart_project_progress
                          WHERE as_of_date = '2025-09-26' AND stale_days >= 21""",
    )
    assert stale and {p["project_code"] for p in dispatch.data["stale_projects"]} == {c for (c,) in stale}
    for project in dispatch.data["stale_projects"]:
        assert project["project_name"] in dispatch.html
    assert len(dispatch.data["overdue_issues"]) == 2


def test_a_week_with_a_new_start_shows_it(db):
    from econ_monitor.reports import weekly_dispatch

    started = rows(
        db,
        """SELECT c.project_code FROM marts.mart_project_progress c
                            JOIN marts.mart_project_progress p USING (project_code)
                            WHERE c.as_of_date = '2025-09-12' AND p.as_of_date = '2025-09-05'
                              AND c.stage = '已开工' AND p.stage <> '已开工'""",
    )
    assert started  # the sample's second ledger has new starts (94 → 97 started)
    report = weekly_dispatch(db, date(2025, 9, 12))
    assert {m["project_code"] for m in report.data["new_starts"]} == {code for (code,) in started}
    assert report.data["previous_ledger"] == date(2025, 9, 5)


def test_charts_emit_no_warnings_and_are_embedded(built):
    reports, caught = built
    assert not [m for m in caught if "Glyph" in m or "missing from font" in m], caught
    for report in reports.values():
        assert report.charts
        for png in report.charts.values():
            assert png.startswith(b"\x89PNG")
        assert report.html.count('src="data:image/png;base64,') == len(report.charts)


def test_data_from_the_warehouse_is_escaped(db):
    from econ_monitor.reports import weekly_dispatch

    hostile = '<script>alert("x")</script>&'
    with db.transaction() as tx:
        db.execute(
            "UPDATE monitor.alerts SET entity_name = %s WHERE alert_key = "
            "(SELECT min(alert_key) FROM monitor.alerts WHERE status = 'open')",
            (hostile,),
        )
        report = weekly_dispatch(db)
        raise psycopg.Rollback(tx)
    assert "<script>" not in report.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;" in report.html
    assert hostile in report.text  # the plain-text part is not HTML


# ------------------------------------------------------------------------------------- publishing


def test_publishing_twice_mails_each_leader_once(db, bulletin):
    from econ_monitor.reference import leaders
    from econ_monitor.reports import leadership_group, publish_report
    from econ_monitor.settings import load_settings

    group = leadership_group()
    assert set(group) == {code for code, person in leaders().items() if person.role == "leader"} | {"D00"}
    settings = load_settings()
    first, queued = publish_report(db, bulletin, settings)
    second, queued_again = publish_report(db, bulletin, settings)
    assert len(queued) == len(group) and queued_again == []
    assert first == second == settings.local_dir / "reports" / "monthly_bulletin" / "2025-09.html"
    assert first.read_text(encoding="utf-8") == bulletin.html
    assert first.with_suffix(".pdf").read_bytes().startswith(b"%PDF-")
    mails = rows(
        db, "SELECT recipient_code, dedupe_key, subject, body_html FROM monitor.outbox WHERE kind = 'monthly_bulletin'"
    )
    assert sorted(m[0] for m in mails) == sorted(group)
    assert {m[1] for m in mails} == {f"monthly_bulletin:2025-09:{code}" for code in group}
    mayor = next(m for m in mails if m[0] == "L01")
    assert mayor[2] == "胶州市经济运行月通报（2025年1-9月） — 市长"
    assert '<p style="font-size:15px;">市长：</p>' in mayor[3]
    # Every leader's mail carries the PDF; its bytes are stored once.
    attached = rows(
        db,
        """SELECT o.recipient_code, a.filename, a.content_type, a.sha256 FROM monitor.outbox o
                             JOIN monitor.outbox_attachments a USING (message_id) WHERE o.kind = 'monthly_bulletin'""",
    )
    assert sorted(a[0] for a in attached) == sorted(group)
    assert {a[1:] for a in attached} == {("胶州市经济运行月通报（2025年1-9月）.pdf", "application/pdf", attached[0][3])}
    assert rows(db, "SELECT count(*) FROM monitor.mail_attachments WHERE sha256 = %s", (attached[0][3],)) == [(1,)]


def test_weekly_entry_point_publishes_and_delivers(db, mailbox):
    from econ_monitor.reference import leader
    from econ_monitor.reports import leadership_group, publish_weekly_dispatch

    summary = publish_weekly_dispatch()
    assert summary["period"] == "2025-09-26" and summary["mails_queued"] == len(leadership_group())
    assert Path(summary["path"]).is_file()
    assert summary["mails_pending"] == 0
    for code in leadership_group():
        received = [m for m in mailbox.to(leader(code).email) if m["X-Econ-Monitor-Kind"] == "weekly_dispatch"]
        assert len(received) == 1
        assert "周调度" in received[0]["Subject"]
        assert "在办预警" in mailbox.text(received[0])
        # The charts travel as inline parts, which mail clients show; they block data: URIs.
        html = mailbox.html(received[0])
        inline = {
            f"cid:{part['Content-ID'].strip().strip('<>')}": part.get_content()
            for part in received[0].walk()
            if part.get_content_type() == "image/png"
        }
        assert "data:image" not in html and inline
        assert sorted(re.findall(r'src="(cid:[^"]+)"', html)) == sorted(inline)
        assert all(png.startswith(b"\x89PNG") for png in inline.values())
        # The printable PDF is attached: the very file archived beside the HTML.
        (pdf,) = [part for part in received[0].iter_attachments() if part.get_content_type() == "application/pdf"]
        assert pdf.get_filename() == "胶州市经济运行周调度（2025年9月26日）.pdf"
        assert pdf.get_content() == Path(summary["path"]).with_suffix(".pdf").read_bytes()
    again = publish_weekly_dispatch()
    assert again["mails_queued"] == 0 and again["mails_sent"] == 0


def test_claims_closures_and_recovered_data_appear_in_the_next_reports(db):
    """A claimed warning names its claimer; a 销号 shows in the bulletin; a warning whose data recovers
    closes itself and says so in the weekly dispatch."""
    from econ_monitor.alerts.state import claim, close, sync_alerts
    from econ_monitor.reports import monthly_bulletin, weekly_dispatch

    keys = [
        key
        for (key,) in rows(
            db,
            """SELECT alert_key FROM monitor.alerts WHERE status = 'open'
                                            AND rule_code = 'chain_output_behind' ORDER BY alert_key LIMIT 3""",
        )
    ]
    claimed_key, closed_key, recovered_key = keys
    leader_of = dict(rows(db, "SELECT alert_key, leader_code FROM monitor.alerts WHERE alert_key = ANY(%s)", (keys,)))
    claim(db, claimed_key, leader_of[claimed_key], "王主任")
    close(db, closed_key, leader_of[closed_key], "李局长", note="已协调解决")
    db.execute("UPDATE marts.mart_current_warnings SET level = 'green' WHERE alert_key = %s", (recovered_key,))
    assert sync_alerts(db).resolved == [recovered_key]

    dispatch = weekly_dispatch(db)
    claimed = next(a for a in dispatch.data["open_alerts"] if a["alert_key"] == claimed_key)
    assert claimed["claimed_by"] == "王主任" and claimed["days_claimed"] == 0
    assert "已由 王主任 认领 0 天" in dispatch.html
    assert [r["alert_key"] for r in dispatch.data["resolved_by_data"]] == [recovered_key]
    assert closed_key not in {a["alert_key"] for a in dispatch.data["open_alerts"]}
    recovered_name = dispatch.data["resolved_by_data"][0]["entity_name"]
    assert recovered_name in _visible_text(dispatch.html.split("五、数据恢复正常")[1])

    bulletin = monthly_bulletin(db, 2025, 9)
    closed = {r["alert_key"]: r for r in bulletin.data["closed_alerts"]}
    assert set(closed) == {closed_key, recovered_key}
    assert closed[closed_key]["actor"] == "李局长" and closed[recovered_key]["event_type"] == "resolved_by_data"
    assert "李局长 销号：已协调解决" in bulletin.html


# ------------------------------------------------------------------------------------- rendering


def test_reports_render_in_a_headless_browser(built, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    from PIL import Image

    for name, report in built[0].items():
        page, shot = tmp_path / f"{name}.html", tmp_path / f"{name}.png"
        page.write_text(report.html, encoding="utf-8")
        subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp_path / 'profile'}",
                f"--screenshot={shot}",
                "--window-size=1200,3000",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        with Image.open(shot) as image:
            pixels = image.convert("RGB")
            assert pixels.size == (1200, 3000)
            colours = pixels.getcolors(maxcolors=1 << 20)
            white = next((count for count, colour in colours if colour == (255, 255, 255)), 0)
            assert len(colours) > 200, f"{name}: only {len(colours)} colours"
            assert white < 0.9 * pixels.size[0] * pixels.size[1], f"{name}: the page is almost blank"
            # the red of the warnings (text and chart bars) is on the page
            assert any(
                sum(abs(a - b) for a, b in zip(colour, (0xC0, 0x39, 0x2B), strict=False)) <= 12 for _, colour in colours
            ), name
