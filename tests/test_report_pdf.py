"""The reports on paper: the archived PDF of the 月通报 and the 周调度, read back with poppler (pdftotext,
pdftoppm, pdfimages, pdffonts) as someone printing and filing them would see it: A4, the title, data date
and page number on every page, every table row whole on one page with the mart's figures, Chinese in an
embedded CJK font, charts at print resolution, and no blank page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import rows

POPPLER = ("pdftotext", "pdftoppm", "pdfimages", "pdffonts", "pdfinfo")
pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in POPPLER), reason="poppler-utils is not installed (make system-deps)"
)


def _squeeze(text: str) -> str:
    """Text without white space: a cell's words wrapped over several lines read as one string again."""
    return re.sub(r"\s+", "", text)


def _pages(pdf: Path) -> list[str]:
    # -raw keeps the order the text was drawn in: one table cell after the other, one row after the other.
    text = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return [_squeeze(page) for page in text.split("\f") if page.strip()]


@pytest.fixture(scope="module")
def printed(sample_warehouse):
    """Both reports built from the sample delivery and published: {kind: (report, pdf path, squeezed pages)}."""
    from econ_monitor import pipeline
    from econ_monitor.reports import monthly_bulletin, publish_report, weekly_dispatch
    from econ_monitor.settings import load_settings

    url, conn = sample_warehouse
    os.environ["ECON_WAREHOUSE_URL"] = url
    pipeline.raise_alerts()
    settings = load_settings()
    result = {}
    for report in (monthly_bulletin(conn), weekly_dispatch(conn)):
        pdf = publish_report(conn, report, settings)[0].with_suffix(".pdf")
        result[report.kind] = (report, pdf, _pages(pdf))
    return conn, result


def test_pdfs_are_archived_beside_the_html_as_a4(printed):
    _, reports = printed
    for kind, (report, pdf, pages) in reports.items():
        assert pdf.parent.name == kind and pdf.name == f"{report.period}.pdf" and pdf.with_suffix(".html").is_file()
        assert pdf.read_bytes().startswith(b"%PDF-")
        info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
        assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
        assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) == len(pages) > 1


def test_every_page_has_title_data_date_and_page_number(printed):
    _, reports = printed
    for report, _, pages in (reports[kind] for kind in reports):
        for number, page in enumerate(pages, start=1):
            assert _squeeze(report.title) in page, (report.kind, number)
            assert _squeeze(f"数据期：{report.period_label}") in page, (report.kind, number)
            assert f"第{number}页/共{len(pages)}页" in page, (report.kind, number)


def test_bulletin_rows_are_whole_on_one_page_with_the_marts_figures(printed):
    from econ_monitor.reports.render import level_label, signed

    conn, reports = printed
    report, _, pages = reports["monthly_bulletin"]
    mart = {
        code: (name, deviation, level)
        for code, name, deviation, level in rows(
            conn,
            """SELECT indicator_code, indicator_name, deviation_pp, warning_level
                   FROM marts.mart_indicator_monitoring WHERE year = 2025 AND period_month = 9""",
        )
    }
    assert len(report.data["indicators"]) == len(mart) > 20
    table_pages = set()
    for index, row in enumerate(report.data["indicators"], start=1):
        name, deviation, level = mart[row["indicator_code"]]
        # From the row's number and name to its level and leader: a row cut by a page break would end on
        # the next page, after that page's header.
        whole_row = re.compile(
            re.escape(f"{index}{_squeeze(name)}")
            + ".*?"
            + re.escape(_squeeze(row["actual_text"]))
            + ".*?"
            + re.escape(signed(deviation, 2))
            + ".*?"
            + re.escape(level_label(level))
            + re.escape(_squeeze(row["leader_title"] or row["responsible_leader"]))
        )
        found = [number for number, page in enumerate(pages) if whole_row.search(page)]
        assert found, f"row {index} {name} is not whole on any page"
        table_pages.update(found)
    # A table running onto the next page repeats its header row there.
    for number in table_pages:
        assert "序号指标口径实际目标时序进度偏差（百分点）" in pages[number], number

    text = "".join(pages)
    levels = dict(
        rows(
            conn,
            """SELECT warning_level, count(*) FROM marts.mart_indicator_monitoring
                                  WHERE year = 2025 AND period_month = 9 GROUP BY warning_level""",
        )
    )
    assert f"主要经济指标{len(mart)}项：●红色{levels['red']}项，▲黄色{levels['yellow']}项" in text
    ((signed_count, signed_target, started_count),) = rows(
        conn,
        """SELECT signed_count, signed_target, started_count FROM marts.mart_project_targets
                   WHERE industry_category = '合计' ORDER BY as_of_date DESC LIMIT 1""",
    )
    assert f"新签约{signed_count}个（目标{signed_target}个" in text and f"新开工{started_count}个" in text
    for (chain_name,) in rows(
        conn, "SELECT chain_name FROM marts.mart_industry_chain_monitoring WHERE period_month = 9"
    ):
        assert _squeeze(chain_name) in text


def test_dispatch_shows_the_open_warnings_and_stale_projects(printed):
    conn, reports = printed
    report, _, pages = reports["weekly_dispatch"]
    text = "".join(pages)
    levels = dict(
        rows(conn, "SELECT level, count(*) FROM monitor.alerts WHERE status IN ('open', 'claimed') GROUP BY level")
    )
    assert f"红色{levels['red']}项" in text and f"黄色{levels['yellow']}项" in text
    assert "在办预警" in text
    for project in report.data["stale_projects"]:
        assert _squeeze(project["project_name"]) in text


def test_chinese_is_set_in_an_embedded_cjk_font_and_charts_are_sharp(printed):
    _, reports = printed
    for _, pdf, _ in reports.values():
        fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
        cjk = [line for line in fonts.splitlines() if "CJK" in line]
        assert cjk and all(" yes yes yes " in line for line in cjk), fonts  # embedded, subset, with Unicode map
        images = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
        charts = [line.split() for line in images.splitlines()[2:] if line.split()[2] == "image"]
        assert charts, images
        for chart in charts:
            assert int(chart[12]) >= 200 and int(chart[13]) >= 200, (
                f"{pdf.name}: chart at {chart[12]} x {chart[13]} ppi"
            )


def test_no_page_is_blank(printed, tmp_path):
    from PIL import Image

    _, reports = printed
    for kind, (_, pdf, pages) in reports.items():
        subprocess.run(["pdftoppm", "-r", "40", "-gray", "-png", str(pdf), str(tmp_path / kind)], check=True)
        images = sorted(tmp_path.glob(f"{kind}-*.png"))
        assert len(images) == len(pages)
        for image_path in images:
            with Image.open(image_path) as image:
                histogram = image.convert("L").histogram()
            inked = sum(histogram[:200]) / sum(histogram)
            # The header and footer alone ink 0.1 % of a page (measured); the sparsest page of content 1.9 %.
            assert inked > 0.005, f"{image_path.name}: {inked:.1%} of the page is inked"
