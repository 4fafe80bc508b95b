"""The bulk path: a large CSV whose values need no conversion is checked column by column and copied as is.

The row-by-row parser (parse.py) is the reference: it folds, strips, converts and, for a broken file, names
the row and column at fault. It costs a few microseconds per row in Python, which for a province-wide
重点企业产值月报 (a million rows) is most of the load. Most such files are machine-written: every value is
already in the form the parser would produce, or is a missing marker. This path checks that, with Arrow's
vectorised kernels over blocks of rows, and streams the rows to COPY without touching them one by one.

It never reads a value differently from the reference. It only accepts what the reference would take
unchanged: text that NFKC folding and stripping leave as it is, plain decimals (`-12.5`) in number columns,
the exact missing markers (loaded as NULL), no unit to convert. At the first thing it does not handle — a
quote, odd whitespace, a character NFKC would fold, a total or footnote row, a missing key, a thousands
separator, a date or whole-number column, a sub-item list, an undecodable byte, a ragged row, a line or
cell the row-by-row reader would refuse as too long — it raises `NotCanonical`, and the loader rolls back
to a savepoint and loads the file row by row. Whether a file went this way changes how fast it loads,
never what lands (tests/test_bulk_load.py loads files both ways).
"""

from __future__ import annotations

import csv
import functools
import io
import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from econ_monitor.ingest.contracts import Kind
from econ_monitor.ingest.parse import FOOTNOTE, TOTAL_ROW, ParsedFile, number_factor
from econ_monitor.ingest.readers import MAX_LINE_CHARS, detect_encoding
from econ_monitor.ingest.values import MISSING_MARKERS
from econ_monitor.settings import load_ingest_limits

if TYPE_CHECKING:
    import psycopg

BLOCK_BYTES = 1 << 20
# A file smaller than this loads row by row: the bulk path would save milliseconds and add nothing.
MIN_FILE_BYTES = 256 << 10


@functools.cache
def _declined_characters() -> tuple[str, ...]:
    """Besides the space (checked per column at a cell's edge): the whitespace str.strip() would remove that
    NFKC does not already fold to a space; the quote (a quoted cell may hide a delimiter or a line break);
    NUL (which the csv module refuses); and the byte-order mark, which Arrow drops at the start of a block.
    Found once, on first use: it takes a pass over all of Unicode."""
    return tuple(
        character
        for character in map(chr, range(sys.maxunicode + 1))
        if character.isspace() and character not in " \r\n" and unicodedata.is_normalized("NFKC", character)
    ) + ('"', "\x00", "\ufeff")


# Arrow's regular expressions are RE2, whose \d is ASCII only; Python's matches every decimal digit.
_FOOTNOTE = FOOTNOTE.pattern.replace(r"\d", r"\p{Nd}")
_TOTAL_ROW = TOTAL_ROW.pattern
_MISSING = "^(" + "|".join(re.escape(marker) for marker in sorted(MISSING_MARKERS)) + ")$"
_MISSING_MAX_LENGTH = max(map(len, MISSING_MARKERS))
# What parse_number reads as is (its fast path): the server parses exactly these the same way.
_PLAIN_NUMBER = r"^[+-]?[0-9]+(\.[0-9]+)?$"


class NotCanonical(Exception):
    """The file needs the row-by-row parser; the message says why, for the log."""


@dataclass(frozen=True)
class BulkPlan:
    path: Path
    encoding: str
    data_starts_after_line: int
    # (cell index, column kind) per raw-table column, in the order of `columns`
    cells: tuple[tuple[int, Kind], ...]
    columns: tuple[str, ...]
    key_cell: int
    # A cell at least this long is declined: the row-by-row reader refuses it (ECON_MAX_CELL_CHARS) or the
    # csv module cannot read it.
    cell_chars_declined: int


def plan_for(parsed: ParsedFile, path: Path) -> BulkPlan | None:
    """A plan if the file can take the bulk path at all; None sends it row by row without trying."""
    contract, header = parsed.contract, parsed.header
    if path.suffix.lower() != ".csv" or path.stat().st_size < MIN_FILE_BYTES or contract.has_sub_items:
        return None
    cells = []
    for target, index in header.positions.items():
        column = contract.column(target)
        if column.kind not in (Kind.TEXT, Kind.NUMBER):
            return None
        if column.kind is Kind.NUMBER and number_factor(column, header.units.get(target)) != 1:
            return None
        cells.append((index, column.kind))
    return BulkPlan(
        path=path,
        encoding=detect_encoding(path),
        data_starts_after_line=header.last_header_row,
        cells=tuple(cells),
        columns=tuple(header.positions),
        key_cell=header.positions[contract.key_column],
        cell_chars_declined=min(csv.field_size_limit(), load_ingest_limits().max_cell_chars + 1),
    )


def copy_file(cur: psycopg.Cursor, plan: BulkPlan, table: str, load_id: int) -> int:
    """COPY the file's data rows into raw.<table> with their row numbers; raises NotCanonical to decline."""
    from psycopg import sql
    from psycopg.copy import QueuedLibpqWriter

    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier("raw", table), sql.SQL(", ").join(map(sql.Identifier, (*plan.columns, "source_row", "load_id")))
    )
    rows = 0
    # The queued writer sends to the server from a thread, so the server stores one block while the next is
    # checked here.
    with cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        for block, count in _csv_blocks(plan, load_id):
            copy.write(block)
            rows += count
    if rows == 0:
        raise NotCanonical("no data rows")
    return rows


def _csv_blocks(plan: BulkPlan, load_id: int) -> Iterator[tuple[bytes, int]]:
    """The data rows as COPY csv, a block of lines at a time, with their row numbers and load_id."""
    import numpy
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    encoding = "utf-8" if plan.encoding == "utf-8-sig" else plan.encoding  # the BOM is on the header's line
    with plan.path.open("rb") as handle:
        _skip_lines_above_the_data(handle, plan.data_starts_after_line)
        first_line = plan.data_starts_after_line + 1
        width = None
        while raw := handle.read(BLOCK_BYTES):
            rest_of_line = handle.readline(MAX_LINE_CHARS * 4)  # never more than the longest line allowed
            if rest_of_line and not rest_of_line.endswith(b"\n") and handle.peek(1):
                raise NotCanonical("a line longer than the row-by-row reader allows")
            text = _checked_text(raw + rest_of_line, encoding)
            if width is None:
                width = text.split("\n", 1)[0].count(",") + 1
                if width <= max(index for index, _ in plan.cells):
                    raise NotCanonical("fewer cells than the header")
            lines = text.count("\n") + (not text.endswith("\n"))
            table = _parse_block(text.encode("utf-8"), width)
            if table.num_rows != lines:
                raise NotCanonical("rows and lines differ")
            columns = _checked_columns(table, plan, spaces=" " in text, totals="计" in text)
            columns.append(pa.array(numpy.arange(first_line, first_line + lines, dtype=numpy.int32)))
            columns.append(pa.repeat(pa.scalar(load_id, pa.int64()), lines))
            first_line += lines
            out = io.BytesIO()
            pa_csv.write_csv(
                pa.Table.from_arrays(columns, names=[*plan.columns, "source_row", "load_id"]),
                out,
                write_options=pa_csv.WriteOptions(include_header=False),
            )
            yield out.getvalue(), lines


def _skip_lines_above_the_data(handle, count: int) -> None:
    """Past the title and header lines. The csv module ends a line at CR LF, LF or a bare CR, a binary
    readline at LF only: a bare CR would make the two counts differ, so it is declined."""
    for _ in range(count):
        line = handle.readline()
        if line.count(b"\r") != line.endswith(b"\r\n"):
            raise NotCanonical("a bare carriage return above the data")


def _parse_block(data: bytes, width: int):
    """One block of UTF-8 lines as an Arrow table of `width` text columns, in a single chunk."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    names = [f"cell{index}" for index in range(width)]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data),
            read_options=pa_csv.ReadOptions(column_names=names, use_threads=False, block_size=len(data) + 1),
            parse_options=pa_csv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowException as exc:  # a row with another number of cells, most often
        raise NotCanonical(str(exc).splitlines()[0]) from exc
    # One chunk per column: Arrow 26's write_csv copies stale memory for a column whose first chunk is
    # empty, which the reader can produce.
    return table.combine_chunks()


def _checked_text(raw: bytes, encoding: str) -> str:
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise NotCanonical(f"not valid {encoding}") from exc
    if not unicodedata.is_normalized("NFKC", text):
        raise NotCanonical("characters that NFKC folds")
    if any(character in text for character in _declined_characters()):
        raise NotCanonical("quotes, NUL, a byte-order mark or whitespace other than spaces")
    if text.count("\r") != text.count("\r\n"):
        raise NotCanonical("a bare carriage return")
    if len(text) > MAX_LINE_CHARS and max(map(len, text.split("\n"))) >= MAX_LINE_CHARS:
        raise NotCanonical("a line longer than the row-by-row reader allows")
    return text


def _checked_columns(table, plan: BulkPlan, spaces: bool, totals: bool) -> list:
    """The raw-table columns of one block, missing markers as NULL; NotCanonical for anything else to do.

    `spaces` and `totals` say whether the block holds a space or a 计 at all: most blocks of a Chinese
    report hold neither, and then no cell can have a space at its edge or be a total label."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for index in range(table.num_columns):
        cells = table.column(index)
        if pc.max(pc.utf8_length(cells)).as_py() >= plan.cell_chars_declined:
            raise NotCanonical("a cell longer than the row-by-row reader allows")
        if spaces and (pc.any(pc.starts_with(cells, " ")).as_py() or pc.any(pc.ends_with(cells, " ")).as_py()):
            raise NotCanonical("spaces at the edge of a cell")
        if totals and pc.any(pc.match_substring_regex(cells, _TOTAL_ROW)).as_py():
            raise NotCanonical("a total or subtotal row")
    if pc.any(pc.match_substring_regex(table.column(plan.key_cell), _FOOTNOTE)).as_py():
        raise NotCanonical("a key that reads like a footnote")
    missing_value = pa.scalar(None, pa.string())
    columns = []
    for index, kind in plan.cells:
        cells = table.column(index)
        plain = pc.match_substring_regex(cells, _PLAIN_NUMBER) if kind is Kind.NUMBER else None
        if plain is not None and pc.all(plain).as_py():
            columns.append(cells)
            continue
        if plain is None and not pc.any(pc.less_equal(pc.utf8_length(cells), _MISSING_MAX_LENGTH)).as_py():
            columns.append(cells)
            continue
        missing = pc.match_substring_regex(cells, _MISSING)
        if index == plan.key_cell and pc.any(missing).as_py():
            raise NotCanonical("a row without its key")
        if plain is not None and not pc.all(pc.or_(plain, missing)).as_py():
            raise NotCanonical("a number that is not a plain decimal")
        columns.append(pc.if_else(missing, missing_value, cells))
    return columns
