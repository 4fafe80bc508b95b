"""Declarative contracts: what each departmental file type must contain and where it lands.

A contract names the raw table, each column's header spellings (regular expressions over the header
with spaces removed, brackets folded and the unit split off), the column's type and canonical unit,
which column identifies a data row, and where the reporting period comes from. The loader reads any
file through these contracts; adding a file type means adding a contract, not code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum


class Kind(str, Enum):
    TEXT = "text"
    NUMBER = "number"
    INTEGER = "integer"
    DATE = "date"
    PERIOD = "period"
    YEAR = "year"  # 年度: a period without a month


class PeriodSource(str, Enum):
    """Monthly reports carry a (year, month); weekly ledgers an as-of date."""

    MONTH_FROM_TITLE = "month_from_title"  # title rows, else the file name
    MONTH_FROM_COLUMN = "month_from_column"  # the `period` column, one value per file
    DATE_FROM_TITLE = "date_from_title"  # 截至… in the title rows, else the file name
    YEAR_FROM_COLUMN = "year_from_column"  # the `period` column (年度), one value per file


@dataclass(frozen=True)
class Column:
    target: str
    headers: tuple[str, ...]
    kind: Kind
    required: bool = True
    # Canonical unit of the raw column: a header unit of the same family (万元/亿元/元) is converted.
    unit: str | None = None
    # How the column is named in messages to people; defaults to the first spelling without regex syntax.
    label: str | None = None

    @property
    def display_name(self) -> str:
        return self.label or re.sub(r"\([^()]*\)\?", "", self.headers[0])

    def matches(self, header_name: str) -> bool:
        return any(re.fullmatch(pattern, header_name) for pattern in self.headers)


@dataclass(frozen=True)
class Contract:
    report_type: str
    title: str
    table: str
    departments: tuple[str, ...]
    columns: tuple[Column, ...]
    key_column: str
    period_source: PeriodSource
    # Indicator reports flag `#` sub-items (is_sub_item); other files take a leading # literally.
    sub_items: bool = False
    # A part of a multi-sheet workbook: the sheet it is read from. Every sheet of a file lands under one
    # load (one audit row, one supersede key), so the contracts of one workbook share report_type.
    sheet: str | None = None

    @property
    def has_sub_items(self) -> bool:
        return self.sub_items

    @property
    def rows_table(self) -> str:
        """Where the loader writes; `table` is the view that reads each row with its lineage (migration 0002)."""
        return f"{self.table}_rows"

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(column for column in self.columns if column.required)

    def column(self, target: str) -> Column:
        return next(column for column in self.columns if column.target == target)


T, N, I, D, P, Y = Kind.TEXT, Kind.NUMBER, Kind.INTEGER, Kind.DATE, Kind.PERIOD, Kind.YEAR  # noqa: E741 - one-letter kinds keep the contract tables readable column by column

# Columns several file types share, spelled once: a department that writes a new spelling adds it here for
# every report that has the column.
_SEQ = Column("seq", (r"序号",), I, required=False)
_UNIT = Column("unit", (r"计量单位", r"单位"), T)
_INDICATOR_NAME = Column("indicator_name", (r"指标名称", r"指标"), T)
_INDUSTRY_CATEGORY = Column("industry_category", (r"产业类别", r"类别"), T)
_CHAIN_NAME = Column("chain_name", (r"产业链", r"产业链名称"), T)
_PROJECT_CHAIN = Column("chain_name", (r"所属产业链", r"产业链"), T)  # the chain a project or enterprise belongs to
_TOWN = Column("town", (r"所在镇街", r"镇街"), T, required=False)
_YEAR = Column("period", (r"年度", r"年份", r"目标年度"), Y, label="年度")
_TARGET_SOURCE = Column("target_source", (r"目标来源", r"来源", r"依据"), T, required=False)

INDICATOR_REPORT = Contract(
    report_type="main_indicators",
    title="主要经济指标月报",
    table="tjj_indicator_report",
    departments=("tjj",),
    columns=(
        Column("indicator_name", (r"指标名称", r"指标", r"项目"), T),
        _UNIT,
        Column("month_value", (r"(\d{1,2}月|本月)(绝对值|数值|本月值)",), N, label="M月 绝对值"),
        Column(
            "month_growth_pct",
            (r"(\d{1,2}月|本月)(同比)?增长(率|幅度)?(%)?", r"(\d{1,2}月|本月)增速"),
            N,
            label="M月 同比增长(%)",
        ),
        Column("ytd_value", (r"(1-\d{1,2}月|累计|本年累计)(绝对值|数值|累计值)",), N, label="1-M月 绝对值"),
        Column(
            "ytd_growth_pct",
            (r"(1-\d{1,2}月|累计|本年累计)(同比)?增长(率|幅度)?(%)?", r"(1-\d{1,2}月|累计)增速"),
            N,
            label="1-M月 同比增长(%)",
        ),
    ),
    key_column="indicator_name",
    period_source=PeriodSource.MONTH_FROM_TITLE,
    sub_items=True,
)

DEPARTMENT_REPORT = Contract(
    report_type="department_indicators",
    title="部门指标报送表",
    table="department_indicator_report",
    departments=("swj", "kjj", "rsj", "jrb"),
    columns=(
        Column("reporting_unit", (r"报送单位", r"填报单位"), T),
        Column("period", (r"报告期", r"报告期别", r"统计期"), P),
        _INDICATOR_NAME,
        _UNIT,
        Column("month_value", (r"本月值", r"本月数", r"当月值"), N),
        Column("ytd_value", (r"1至本月累计值", r"1-本月累计值?", r"本年累计值?", r"累计值"), N),
        Column("ytd_growth_pct", (r"累计同比增长(率)?", r"累计增长(率)?", r"同比增长(率)?"), N),
        Column("filled_by", (r"填报人",), T, required=False),
        Column("contact_phone", (r"联系电话", r"电话"), T, required=False),
        Column("remarks", (r"备注",), T, required=False),
    ),
    key_column="indicator_name",
    period_source=PeriodSource.MONTH_FROM_COLUMN,
    sub_items=True,
)

CHAIN_REPORT = Contract(
    report_type="industry_chains",
    title="产业链运行监测表",
    table="chain_report",
    departments=("gxj",),
    columns=(
        _SEQ,
        _INDUSTRY_CATEGORY,
        _CHAIN_NAME,
        Column("chain_leader_firm", (r"链主企业",), T, required=False),
        Column("above_scale_firms", (r"规上企业数", r"规上企业数量"), I, required=False),
        Column("month_output_yi", (r"本月产值",), N, unit="亿元"),
        Column(
            "ytd_output_yi",
            (r"1-(\d{1,2}|本)月累计产值", r"累计产值", r"本年累计产值"),
            N,
            unit="亿元",
            label="1-M月累计产值",
        ),
        Column("ytd_growth_pct", (r"(累计)?同比增长(率)?", r"增速"), N),
    ),
    key_column="chain_name",
    period_source=PeriodSource.MONTH_FROM_TITLE,
)

PROJECT_LEDGER = Contract(
    report_type="project_ledger",
    title="重点项目调度台账",
    table="project_ledger",
    departments=("fgj",),
    columns=(
        _SEQ,
        Column("project_code", (r"项目编号", r"项目代码"), T),
        Column("project_name", (r"项目名称",), T),
        Column("project_library", (r"项目库", r"所属项目库"), T),
        Column("industry_category", (r"产业类别",), T),
        _PROJECT_CHAIN,
        Column("total_investment_wan", (r"总投资", r"计划总投资"), N, unit="万元"),
        Column("annual_plan_investment_wan", (r"年度计划投资", r"本年计划投资"), N, unit="万元"),
        Column("ytd_investment_wan", (r"本年累计完成投资", r"累计完成投资"), N, unit="万元"),
        Column("signed_date", (r"签约日期", r"签约时间"), D),
        Column("planned_start_date", (r"计划开工日期", r"计划开工时间"), D),
        Column("actual_start_date", (r"实际开工日期", r"实际开工时间"), D),
        Column("planned_operation_date", (r"计划投产日期", r"计划投产时间"), D, required=False),
        Column("actual_operation_date", (r"实际投产日期", r"实际投产时间"), D, required=False),
        Column("stage", (r"建设阶段", r"项目阶段"), T),
        Column("progress", (r"形象进度",), T),
        Column("leader_title", (r"包挂领导", r"包联领导", r"包挂市领导"), T),
        Column("responsible_unit", (r"责任单位",), T, required=False),
        _TOWN,
        Column("problems", (r"存在问题",), T, required=False),
        Column("updated_date", (r"更新日期", r"更新时间"), D, required=False),
    ),
    key_column="project_code",
    period_source=PeriodSource.DATE_FROM_TITLE,
)

ISSUE_LEDGER = Contract(
    report_type="issue_ledger",
    title="项目问题台账",
    table="issue_ledger",
    departments=("fgj",),
    columns=(
        _SEQ,
        Column("issue_code", (r"问题编号",), T),
        Column("project_code", (r"项目编号",), T),
        Column("project_name", (r"项目名称",), T, required=False),
        Column("description", (r"问题描述", r"问题内容"), T),
        Column("issue_type", (r"问题类型", r"问题类别"), T, required=False),
        Column("responsible_unit", (r"责任单位",), T),
        Column("responsible_person", (r"责任人",), T, required=False),
        Column("raised_date", (r"提出日期", r"提出时间"), D, required=False),
        Column("due_date", (r"办结时限", r"办结期限"), D),
        Column("status", (r"办理状态", r"状态"), T),
        Column("closed_date", (r"销号日期", r"销号时间"), D, required=False),
    ),
    key_column="issue_code",
    period_source=PeriodSource.DATE_FROM_TITLE,
)

ENTERPRISE_REPORT = Contract(
    report_type="key_enterprises",
    title="重点企业产值月报",
    table="enterprise_report",
    departments=("tjj",),
    columns=(
        Column("credit_code", (r"统一社会信用代码", r"信用代码"), T),
        Column("enterprise_name", (r"企业名称", r"单位名称"), T),
        replace(_PROJECT_CHAIN, required=False),
        _TOWN,
        Column("month_output_wan", (r"本月产值",), N, unit="万元"),
        Column(
            "ytd_output_wan",
            (r"1-本月累计产值", r"1-\d{1,2}月累计产值", r"累计产值"),
            N,
            unit="万元",
            label="1-本月累计产值",
        ),
        Column("ytd_growth_pct", (r"累计同比增长(率)?", r"同比增长(率)?"), N),
        Column("leader_title", (r"包挂领导", r"包联领导"), T, required=False),
    ),
    key_column="credit_code",
    period_source=PeriodSource.MONTH_FROM_TITLE,
)

# 年度目标任务表 (发改局, yearly, re-delivered when targets are adjusted mid-year): one workbook, three sheets,
# each a contract. The year is the 年度 column; a later file for the same year supersedes the whole earlier
# one. Target values of indicators are in the unit the row gives (计量单位), converted in dbt.
INDICATOR_TARGETS = Contract(
    report_type="annual_targets",
    title="年度目标任务表（指标目标）",
    table="indicator_targets",
    departments=("fgj",),
    columns=(
        _YEAR,
        _INDICATOR_NAME,
        _UNIT,
        Column("target_value", (r"目标值", r"年度目标", r"目标"), N),
        Column("baseline_value", (r"基期值", r"基数", r"上年末数"), N, required=False),
        _TARGET_SOURCE,
        Column("assessment", (r"是否考核目标", r"考核目标"), T, required=False),
    ),
    key_column="indicator_name",
    period_source=PeriodSource.YEAR_FROM_COLUMN,
    sheet="指标目标",
)

CHAIN_TARGETS = Contract(
    report_type="annual_targets",
    title="年度目标任务表（产业链目标）",
    table="chain_targets",
    departments=("fgj",),
    columns=(
        _YEAR,
        replace(_INDUSTRY_CATEGORY, required=False),
        _CHAIN_NAME,
        Column("output_target_yi", (r"产业规模目标", r"产值目标", r"产业规模"), N, unit="亿元", label="产业规模目标"),
        _TARGET_SOURCE,
    ),
    key_column="chain_name",
    period_source=PeriodSource.YEAR_FROM_COLUMN,
    sheet="产业链目标",
)

# The 合计 row is skipped like every total row: the total is recomputed from the categories.
PROJECT_COUNT_TARGETS = Contract(
    report_type="annual_targets",
    title="年度目标任务表（招商目标）",
    table="project_count_targets",
    departments=("fgj",),
    columns=(
        _YEAR,
        _INDUSTRY_CATEGORY,
        Column("signed_target", (r"新签约项目目标", r"新签约目标", r"签约项目目标"), I),
        Column("started_target", (r"新开工项目目标", r"新开工目标", r"开工项目目标"), I),
        _TARGET_SOURCE,
    ),
    key_column="industry_category",
    period_source=PeriodSource.YEAR_FROM_COLUMN,
    sheet="招商目标",
)

TARGET_SHEETS: tuple[Contract, ...] = (INDICATOR_TARGETS, CHAIN_TARGETS, PROJECT_COUNT_TARGETS)

CONTRACTS: tuple[Contract, ...] = (
    INDICATOR_REPORT,
    DEPARTMENT_REPORT,
    CHAIN_REPORT,
    PROJECT_LEDGER,
    ISSUE_LEDGER,
    ENTERPRISE_REPORT,
    *TARGET_SHEETS,
)
