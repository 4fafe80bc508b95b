"""How the departments' files look (headers, each department's CSV habits) and how they are saved: with
the delivery's own time in the file and on disk, so the bytes depend on the seed alone and the loader
takes them in delivery order. Tests that write delivered files by hand use the same headers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.writer.excel import ExcelWriter


@dataclass(frozen=True)
class CsvStyle:
    """How one department saves its 部门指标报送表 (as in the sample delivery)."""

    encoding: str
    periods: tuple[str, ...]  # spellings of the period, used in turn month by month
    grouped_numbers: bool = False  # "1,020"
    padded_header: bool = False  # " 报送单位 , 报告期 , …"
    reports_growth: bool = False


DEPARTMENT_STYLES = {
    "swj": CsvStyle("gbk", ("{y}年{m}月", "{y}年{m:02d}月"), reports_growth=True),
    "kjj": CsvStyle("gbk", ("{y}-{m:02d}", "{y}.{m:02d}")),
    "rsj": CsvStyle("utf-8-sig", ("{y}年{m}月",), grouped_numbers=True),
    "jrb": CsvStyle("utf-8-sig", ("{y}{m:02d}",), padded_header=True),
}
DEPARTMENT_HEADER = (
    "报送单位",
    "报告期",
    "指标名称",
    "计量单位",
    "本月值",
    "1至本月累计值",
    "累计同比增长(%)",
    "填报人",
    "联系电话",
    "备注",
)
LEDGER_HEADER = (
    "序号",
    "项目编号",
    "项目名称",
    "项目库",
    "产业类别",
    "所属产业链",
    "总投资（万元）",
    "年度计划投资（万元）",
    "本年累计完成投资（万元）",
    "签约日期",
    "计划开工日期",
    "实际开工日期",
    "计划投产日期",
    "实际投产日期",
    "建设阶段",
    "形象进度",
    "包挂领导",
    "责任单位",
    "所在镇街",
    "存在问题",
    "更新日期",
)
ISSUE_HEADER = (
    "序号",
    "问题编号",
    "项目编号",
    "项目名称",
    "问题描述",
    "问题类型",
    "责任单位",
    "责任人",
    "提出日期",
    "办结时限",
    "办理状态",
    "销号日期",
)
ENTERPRISE_HEADER = (
    "统一社会信用代码",
    "企业名称",
    "所属产业链",
    "所在镇街",
    "本月产值(万元)",
    "1-本月累计产值(万元)",
    "累计同比增长(%)",
    "包挂领导",
)


def delivered(path: Path, stamp: dt.datetime) -> Path:
    """The loader takes files oldest first: give each file its delivery time."""
    os.utime(path, (stamp.timestamp(), stamp.timestamp()))
    return path


def save_workbook(workbook: openpyxl.Workbook, path: Path, author: str, stamp: dt.datetime) -> Path:
    """openpyxl stamps the workbook and every zip member with the current time; the bytes of a delivery
    must depend on the seed alone, so both carry the delivery's own time."""
    workbook.properties.creator = author
    workbook.properties.created = workbook.properties.modified = stamp
    buffer = io.BytesIO()
    ExcelWriter(workbook, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(buffer) as built, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for member in built.infolist():
            target.writestr(
                zipfile.ZipInfo(member.filename, stamp.timetuple()[:6]), built.read(member), zipfile.ZIP_DEFLATED
            )
    return delivered(path, stamp)


def write_csv(path: Path, records: list[list[object]], encoding: str, stamp: dt.datetime) -> Path:
    """Excel's "save as CSV": CRLF line ends, the department's encoding."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(records)
    return delivered(path, stamp)


def titled_sheet(title_rows: list[list[object]], width: int) -> tuple[openpyxl.Workbook, object]:
    """A workbook whose first rows are titles merged across the table's width."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row, title in enumerate(title_rows, start=1):
        sheet.append(title)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    return workbook, sheet
