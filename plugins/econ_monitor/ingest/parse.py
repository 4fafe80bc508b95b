"""Recognise a departmental file by its header and turn its rows into typed raw-table rows.

The header is found, not assumed: title rows above it, a two-row header under merged cells and
footnotes below the data are all normal. Total and subtotal rows (合计, …小计) are recomputable and
therefore skipped; `#` sub-items are kept and flagged. Anything that cannot be read exactly raises
`FileRejected` naming the row and the column, and the whole file is quarantined.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from econ_monitor.ingest.contracts import CONTRACTS, Column, Contract, Kind, PeriodSource
from econ_monitor.ingest.readers import Row, UnreadableFile, read_rows, sheet_names
from econ_monitor.ingest.values import (
    MISSING_MARKERS,
    CellError,
    clean_text,
    find_date,
    find_period,
    is_missing,
    parse_date,
    parse_integer,
    parse_number,
    parse_period,
    parse_year,
    split_header,
    unit_factor,
)
from econ_monitor.settings import IngestLimits

HEADER_SEARCH_ROWS = 15
TOTAL_ROW = re.compile(r"(合计|小计|总计)$")
FOOTNOTE = re.compile(r"^(注|备注|说明|填报|制表|审核|负责人|资料来源|\d+[.、])")


class FileRejected(Exception):
    """The file cannot be loaded exactly; `reason` is written for the department and the data team."""

    def __init__(self, reason: str, row: int | None = None, column: str | None = None):
        self.reason = reason
        self.row = row
        self.column = column
        where = ", ".join(
            part for part in (f"row {row}" if row else "", f"column {column!r}" if column else "") if part
        )
        super().__init__(f"{where}: {reason}" if where else reason)


@dataclass(frozen=True)
class HeaderMatch:
    contract: Contract
    header_rows: int  # 1 or 2
    last_header_row: int
    positions: dict[str, int]  # contract target -> cell index
    labels: dict[str, str]  # contract target -> header text as delivered
    units: dict[str, str | None]  # contract target -> unit found in the header


@dataclass
class ParsedFile:
    contract: Contract
    header: HeaderMatch
    period_year: int | None
    period_month: int | None
    as_of_date: dt.date | None
    rows: Iterator[dict[str, object]]
    sheet: str | None = None  # the sheet read, for a part of a multi-sheet workbook


def _header_cells(row: list[object]) -> list[tuple[str, str | None]]:
    return [split_header(cell) if cell is not None else ("", None) for cell in row]


def _combine_two_rows(upper: list[object], lower: list[object]) -> list[object]:
    """A merged upper header cell spans the cells to its right that are empty in the upper row."""
    combined, current = [], None
    width = max(len(upper), len(lower))
    for index in range(width):
        top = upper[index] if index < len(upper) else None
        bottom = lower[index] if index < len(lower) else None
        if top not in (None, ""):
            current = top
        if bottom in (None, ""):
            combined.append(top)
        else:
            combined.append(f"{current or ''}{bottom}")
    return combined


def _match_header(contract: Contract, cells: list[object]) -> tuple[dict, dict, dict] | None:
    """Positions, labels and units of the contract's columns in a header row; None if a required one is
    missing. Header cells no column matches are the department's own extra columns and are not read."""
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    units: dict[str, str | None] = {}
    for index, (name, unit) in enumerate(_header_cells(cells)):
        if not name:
            continue
        column = next((c for c in contract.columns if c.target not in positions and c.matches(name)), None)
        if column is None:
            continue
        positions[column.target] = index
        labels[column.target] = str(cells[index]).strip()
        units[column.target] = unit
    if all(column.target in positions for column in contract.required):
        return positions, labels, units
    return None


def _missing_columns(contract: Contract, cells: list[object]) -> list[str]:
    names = [name for name, _ in _header_cells(cells) if name]
    return [c.display_name for c in contract.required if not any(c.matches(name) for name in names)]


def find_header(rows: list[Row], contracts: tuple[Contract, ...] = CONTRACTS) -> HeaderMatch:
    best: tuple[int, Contract, list[str]] | None = None
    for position, (number, cells) in enumerate(rows):
        candidates = [(1, cells, number)]
        if position + 1 < len(rows):
            following_number, following = rows[position + 1]
            candidates.append((2, _combine_two_rows(cells, following), following_number))
        for contract in contracts:
            for header_rows, header_cells, last_row in candidates:
                matched = _match_header(contract, header_cells)
                if matched:
                    return HeaderMatch(contract, header_rows, last_row, *matched)
            missing = _missing_columns(contract, cells)
            if best is None or len(missing) < len(best[2]):
                best = (len(missing), contract, missing)
    if best is None:
        raise FileRejected("the file is empty")
    _, contract, missing = best
    raise FileRejected(
        f"no header row found; closest match is {contract.title}, which lacks required column(s): {', '.join(missing)}"
    )


def _period_from_text(contract: Contract, texts: list[str]) -> tuple[int | None, int | None, dt.date | None]:
    for text in texts:
        if contract.period_source is PeriodSource.DATE_FROM_TITLE:
            found = find_date(text)
            if found:
                return found.year, found.month, found
        else:
            period = find_period(text)
            if period:
                return period[0], period[1], None
    return None, None, None


def number_factor(column: Column, header_unit: str | None) -> Decimal:
    """What a number column's values are multiplied by: from the unit its header gives to the column's
    canonical unit (1 for a column without one, or a header with none that it needs not)."""
    if column.unit is None or header_unit in (None, "", "%"):
        if column.unit is not None and not header_unit:
            raise FileRejected(
                f"the header gives no unit; expected one such as ({column.unit})", column=column.display_name
            )
        return Decimal(1)
    try:
        return unit_factor(header_unit, column.unit)
    except CellError as exc:
        raise FileRejected(str(exc), column=column.display_name) from exc


def _converter(column: Column, header_unit: str | None) -> Callable[[object], object]:
    if column.kind is Kind.TEXT:
        return clean_text
    if column.kind is Kind.DATE:
        return parse_date
    if column.kind is Kind.PERIOD:
        return parse_period
    if column.kind is Kind.YEAR:
        return parse_year
    if column.kind is Kind.INTEGER:
        return parse_integer
    factor = number_factor(column, header_unit)
    if factor == 1:
        return parse_number

    def scaled(value: object) -> Decimal | None:
        number = parse_number(value)
        return None if number is None else number * factor

    return scaled


def _is_skippable(cells: list[object], key_missing: bool) -> bool:
    """Blank lines, footnotes (one text cell) and total/subtotal rows carry no data of their own."""
    # This runs for every row (a million in a province-wide file), so it makes one pass over the cells and
    # folds each text cell once, instead of building lists with is_missing and clean_text per cell. Below,
    # for a filled (not missing) text cell, `text` is exactly clean_text(cell).
    filled = 0
    first_is_text = False  # the first filled cell is a text cell
    first_text: str | None = None  # the first filled text cell, folded
    for cell in cells:
        if cell is None:
            continue
        if isinstance(cell, str):
            text = unicodedata.normalize("NFKC", cell).strip()
            if text in MISSING_MARKERS or cell.strip() in MISSING_MARKERS:  # is_missing(cell)
                continue
            # A total/subtotal label anywhere in the row skips it. "计" ends every label: a cheap exact
            # pre-check that spares the regex for almost every cell.
            if "计" in text and TOTAL_ROW.search(text):
                return True
            if first_text is None:
                first_text = text
                first_is_text = filled == 0
        filled += 1
    if not filled:
        return True
    if filled == 1 and first_is_text and (key_missing or FOOTNOTE.match(first_text)):
        return True
    return first_text is not None and bool(FOOTNOTE.match(first_text)) and filled <= 2 and key_missing


def parse_workbook(path: Path, display_name: str | None = None, limits: IngestLimits | None = None) -> list[ParsedFile]:
    """The parts of a delivered file: one per sheet named as a contract's sheet (the 年度目标任务表's three
    sheets), else the file itself (its first sheet). Each part is parsed like a file of its own."""
    try:
        names = sheet_names(path, limits)
    except UnreadableFile as exc:
        raise FileRejected(exc.reason, exc.row, exc.column) from exc
    parts = []
    for name in names:
        contracts = tuple(c for c in CONTRACTS if c.sheet is not None and c.sheet == name.strip())
        if contracts:
            try:
                parts.append(parse_file(path, display_name, limits, sheet=name, contracts=contracts))
            except FileRejected as exc:
                raise in_sheet(exc, name) from exc
    return parts or [parse_file(path, display_name, limits)]


def in_sheet(exc: FileRejected, sheet: str | None) -> FileRejected:
    """The same rejection, its reason naming the sheet of a multi-sheet workbook."""
    if sheet is None:
        return exc
    return FileRejected(f"sheet {sheet.strip()!r}: {exc.reason}", row=exc.row, column=exc.column)


def parse_file(
    path: Path,
    display_name: str | None = None,
    limits: IngestLimits | None = None,
    sheet: str | None = None,
    contracts: tuple[Contract, ...] = CONTRACTS,
) -> ParsedFile:
    """Recognise the file (or the sheet named) and return its rows as a lazy iterator (the data is not
    read yet)."""
    try:
        stream = read_rows(path, limits, sheet)
        head = list(itertools.islice(stream, HEADER_SEARCH_ROWS + 1))
    except UnreadableFile as exc:
        raise FileRejected(exc.reason, exc.row, exc.column) from exc
    if not any(any(not is_missing(cell) for cell in cells) for _, cells in head):
        raise FileRejected("the file is empty")
    header = find_header(head, contracts)
    contract = header.contract
    titles = [
        str(cell)
        for number, cells in head
        if number < header.last_header_row - header.header_rows + 1
        for cell in cells
        if cell
    ]
    year, month, as_of = None, None, None
    if contract.period_source is not PeriodSource.YEAR_FROM_COLUMN:  # a year file's title names only its year
        year, month, as_of = _period_from_text(contract, [*titles, display_name or path.name])
    column_period = (PeriodSource.MONTH_FROM_COLUMN, PeriodSource.YEAR_FROM_COLUMN)
    if contract.period_source not in column_period and year is None:
        what = (
            "as-of date (截至…)"
            if contract.period_source is PeriodSource.DATE_FROM_TITLE
            else "reporting period (e.g. 2025年1-9月)"
        )
        raise FileRejected(f"no {what} in the title rows or the file name")

    converters = {target: _converter(contract.column(target), header.units.get(target)) for target in header.positions}
    remaining = [row for row in head if row[0] > header.last_header_row]
    parsed = ParsedFile(contract, header, year, month, as_of, iter(()), sheet=sheet)
    parsed.rows = _typed_rows(parsed, itertools.chain(remaining, stream), converters)
    return parsed


def _period_text(year: int, month: int | None) -> str:
    return str(year) if month is None else f"{year}-{month:02d}"


def _typed_rows(
    parsed: ParsedFile, rows: Iterator[Row], converters: dict[str, Callable]
) -> Iterator[dict[str, object]]:
    contract, header = parsed.contract, parsed.header
    key_column = contract.key_column
    key_index = header.positions[key_column]
    key_label = header.labels[key_column]
    indicator_key = contract.has_sub_items
    period_column = "period" if "period" in header.positions else None
    # What every cell of a row needs, looked up once per file instead of once per cell:
    # (target, cell index, converter, header label) in header order (the order errors are found in).
    plan = tuple(
        (target, index, converters[target], header.labels[target]) for target, index in header.positions.items()
    )
    data_rows = 0
    try:
        for number, cells in rows:
            width = len(cells)
            key_raw = cells[key_index] if key_index < width else None
            if _is_skippable(cells, is_missing(key_raw)):
                continue
            record: dict[str, object] = {"source_row": number}
            for target, index, convert, label in plan:
                try:
                    record[target] = convert(cells[index] if index < width else None)
                except CellError as exc:
                    raise FileRejected(str(exc), row=number, column=label) from exc
            key = record[key_column]
            if key is None:
                raise FileRejected("a data row without its key value", row=number, column=key_label)
            if indicator_key and isinstance(key, str) and key.startswith("#"):
                record["indicator_name"] = key.lstrip("#").strip()
                record["is_sub_item"] = True
            elif indicator_key:
                record["is_sub_item"] = False
            if period_column:
                period = record.pop(period_column)
                if period is None:
                    raise FileRejected("reporting period is empty", row=number, column=header.labels[period_column])
                if parsed.period_year is None:
                    parsed.period_year, parsed.period_month = period
                elif (parsed.period_year, parsed.period_month) != period:
                    raise FileRejected(
                        f"period {_period_text(*period)} differs from "
                        f"{_period_text(parsed.period_year, parsed.period_month)} in earlier rows: one file reports one period",
                        row=number,
                        column=header.labels[period_column],
                    )
            data_rows += 1
            yield record
    except UnreadableFile as exc:
        raise FileRejected(exc.reason, exc.row, exc.column) from exc
    if data_rows == 0:
        raise FileRejected("the file has a header but no data rows")
