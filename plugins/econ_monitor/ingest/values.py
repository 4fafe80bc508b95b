"""Cell values as departments write them, turned into typed values or a precise error.

People type these files: a number may carry thousands separators, a missing value may be any of
several dashes, a date may be an Excel date cell or one of four spellings. Missing is never zero: every
missing marker becomes None, and anything that is neither missing nor parseable is an error, so a
wrong number can never slip into the warehouse.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from econ_monitor.reference import unit_factors

# "......" is what NFKC makes of "……": the folded text of a cell is checked too, and must not keep it as text.
MISSING_MARKERS = frozenset({"", "—", "——", "-", "--", "/", "…", "……", "...", "......", "－", "－－", "―", "――"})

_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_GROUPED_NUMBER = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


class CellError(ValueError):
    """A cell that is neither missing nor a valid value of its column's type."""


def normalize_text(value: str) -> str:
    """NFKC folds full-width brackets, digits and letters; stray spaces go."""
    text = unicodedata.normalize("NFKC", value)
    return re.sub(r"\s+", "", text)


_NUL_MESSAGE = "a NUL character (byte 0x00): not text a person typed, and no text column can hold it"


def clean_text(value: object) -> str | None:
    if type(value) is str:
        # Fast path for the common case (every CSV cell): the same steps without the checks below.
        text = unicodedata.normalize("NFKC", value).strip()
        if "\x00" in text:
            raise CellError(_NUL_MESSAGE)
        return None if text in MISSING_MARKERS else text
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if "\x00" in text:
        raise CellError(_NUL_MESSAGE)
    return None if text in MISSING_MARKERS else text


def is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).strip() in MISSING_MARKERS or value.strip() in MISSING_MARKERS
    return False


def parse_number(value: object) -> Decimal | None:
    if type(value) is str:
        # Fast path for the common case, a text cell (every CSV cell; a large file has millions): the same
        # decisions as below, with the text folded once instead of twice (is_missing folds it too).
        text = unicodedata.normalize("NFKC", value).strip()
        if text in MISSING_MARKERS or value.strip() in MISSING_MARKERS:
            return None
        text = text.replace(" ", "")
        # A plain decimal such as "-1234.5", recognised without a regex (the regex costs more than
        # Decimal() itself). This accepts exactly what _PLAIN_NUMBER.fullmatch accepts: the regex's `\d` is
        # Unicode category Nd, which is what str.isdecimal() tests. Everything else takes the full path.
        body = text[1:] if text[:1] in ("+", "-") else text
        whole, dot, fraction = body.partition(".")
        if whole.isdecimal() and (not dot or fraction.isdecimal()):
            return Decimal(text)
        return _number_from_text(value, text)
    if is_missing(value):
        return None
    if isinstance(value, bool):
        raise CellError(f"{value!r} is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr() of a float is the shortest string that round-trips: 8345.75 stays 8345.75.
        return Decimal(repr(value))
    return _number_from_text(value, unicodedata.normalize("NFKC", str(value)).strip().replace(" ", ""))


def _number_from_text(value: object, text: str) -> Decimal:
    """`text` is the folded cell without spaces; `value` the cell as delivered (for the message)."""
    if _GROUPED_NUMBER.fullmatch(text):
        text = text.replace(",", "")
    if not _PLAIN_NUMBER.fullmatch(text):
        raise CellError(f"{str(value)[:60]!r} is not a number")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid decimals
        raise CellError(f"{text!r} is not a number") from exc


def parse_integer(value: object) -> int | None:
    number = parse_number(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise CellError(f"{value!r} is not a whole number")
    return int(number)


def parse_year(value: object) -> tuple[int, None] | None:
    """A 年度 cell (2025, "2025", "2025年") as a period without a month: yearly files cover a whole year."""
    if is_missing(value):
        return None
    text = (clean_text(value) or "").removesuffix("年").removesuffix(".0")
    if not re.fullmatch(r"\d{4}", text) or not 2000 <= int(text) <= 2100:
        raise CellError(f"{str(value)[:60]!r} is not a year")
    return int(text), None


_DATE_PATTERNS = (
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def parse_date(value: object) -> dt.date | None:
    if is_missing(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # An Excel date cell that lost its date format arrives as the serial day number.
        if 20000 <= value <= 80000 and float(value).is_integer():
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise CellError(f"{value!r} is not a date")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = re.sub(r"\s+00:00(:00)?$", "", text)
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError as exc:
                raise CellError(f"{text!r} is not a real date ({exc})") from exc
    raise CellError(f"{text[:60]!r} is not a date")


_PERIOD_PATTERNS = (
    # 2025年1-9月, 2025年9月, 2025年09月, 2025年1—2月
    re.compile(r"(\d{4})年(?:\d{1,2}-)?(\d{1,2})月"),
    # 2025-09, 2025.09, 2025/09 (not followed by a day; a file name's extension may follow)
    re.compile(r"(?<!\d)(\d{4})[-./](\d{1,2})(?![\d/-]|\.\d)"),
    # 202509
    re.compile(r"(?<!\d)(\d{4})(\d{2})(?!\d)"),
)


def _fold_dashes(text: str) -> str:
    return re.sub(r"[—–－~～至]", "-", unicodedata.normalize("NFKC", text))


def find_period(text: str) -> tuple[int, int] | None:
    """The (year, month) a monthly report covers. 1-2月 is month 2: there is no January report."""
    folded = _fold_dashes(text)
    for pattern in _PERIOD_PATTERNS:
        for match in pattern.finditer(folded):
            year, month = int(match.group(1)), int(match.group(2))
            if 2000 <= year <= 2100 and 1 <= month <= 12:
                return year, month
    return None


def parse_period(value: object) -> tuple[int, int] | None:
    if is_missing(value):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.year, value.month
    text = clean_text(value) or ""
    period = find_period(text)
    if period is None:
        raise CellError(f"{text[:60]!r} is not a reporting period")
    return period


_DATE_IN_TEXT = (
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
    re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"),
)


def find_date(text: str) -> dt.date | None:
    """An as-of date in a title (截至2025年9月5日) or a file name (台账_2025-09-05.xlsx)."""
    folded = unicodedata.normalize("NFKC", text)
    for pattern in _DATE_IN_TEXT:
        for match in pattern.finditer(folded):
            try:
                return dt.date(*(int(part) for part in match.groups()))
            except ValueError:
                continue
    return None


_HEADER_UNIT = re.compile(r"^(.*?)[(\[]([^()\[\]]*)[)\]]$")


def split_header(cell: object) -> tuple[str, str | None]:
    """'总投资（亿元）' -> ('总投资', '亿元'); ' 报送单位 ' -> ('报送单位', None)."""
    text = _fold_dashes(normalize_text(str(cell))) if cell is not None else ""
    match = _HEADER_UNIT.match(text)
    if match and match.group(1):
        return match.group(1), match.group(2)
    return text, None


def unit_factor(unit: str | None, canonical: str) -> Decimal:
    """The factor that turns a value in `unit` into `canonical`, from the seed `unit_conversions` (the one
    dbt converts targets with); a pair the seed does not list is an error, never a guess."""
    if unit == canonical:
        return Decimal(1)
    factor = unit_factors().get((unit, canonical))
    if factor is None:
        raise CellError(f"unit {unit!r} cannot be converted to {canonical!r}")
    return factor
