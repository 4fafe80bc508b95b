"""Stream the rows of an .xlsx or .csv file without holding the file in memory.

Each row comes with the row number a person sees in Excel or a text editor, so an error can say
"row 57". CSV encoding is decided from the bytes: a BOM means UTF-8; otherwise strict UTF-8 if the
opening bytes decode, else GB18030 (a superset of GBK, which is what Excel's "save as CSV" writes on
a Chinese Windows).
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from pathlib import Path
from typing import Iterator

Row = tuple[int, list[object]]

MAX_LINE_CHARS = 1_000_000
_SNIFF_BYTES = 1 << 16


class UnreadableFile(Exception):
    """The file cannot be read as a spreadsheet at all (a reason a person can act on)."""


def detect_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # A multi-byte character may be cut at the end of the sample; an incremental decoder allows that.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _bounded_lines(text: io.TextIOBase) -> Iterator[str]:
    """Lines for the csv module, refusing a runaway line before it fills memory."""
    while True:
        line = text.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
            raise UnreadableFile(f"a line longer than {MAX_LINE_CHARS:,} characters: not a departmental report")
        yield line


def read_csv(path: Path) -> Iterator[Row]:
    encoding = detect_encoding(path)
    with path.open("r", encoding=encoding, errors="strict", newline="") as text:
        reader = csv.reader(_bounded_lines(text))
        try:
            for record in reader:
                yield reader.line_num, record  # already a new list per row: no copy needed
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"bytes near row {reader.line_num + 1} are not valid {encoding}: {exc.reason}") from exc
        except csv.Error as exc:
            raise UnreadableFile(f"row {reader.line_num}: malformed CSV ({exc})") from exc


def sheet_names(path: Path) -> list[str]:
    """The sheet names of an .xlsx workbook (none for any other file): a multi-sheet report is read by name."""
    if path.suffix.lower() not in {".xlsx", ".xlsm"}:
        return []
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, EOFError) as exc:
        raise UnreadableFile(f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from exc
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def read_xlsx(path: Path, sheet: str | None = None) -> Iterator[Row]:
    # Imported here: openpyxl is only needed when a spreadsheet arrives.
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # read_only streams rows; data_only gives formulas' cached values, which is what people saw.
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, EOFError) as exc:
        raise UnreadableFile(f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from exc
    try:
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            yield number, list(values)
    except (zipfile.BadZipFile, KeyError, EOFError, ValueError) as exc:
        raise UnreadableFile(f"the workbook is damaged ({type(exc).__name__}: {exc})") from exc
    finally:
        workbook.close()


def read_rows(path: Path, sheet: str | None = None) -> Iterator[Row]:
    """The rows of a CSV file, or of a workbook's first sheet (or the sheet named)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path)
    if suffix in {".xlsx", ".xlsm"}:
        return read_xlsx(path, sheet)
    raise UnreadableFile(f"unsupported file type {suffix or '(none)'}: departments deliver .xlsx or .csv")
