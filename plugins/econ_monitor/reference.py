"""Reference data the Python side needs, read from the dbt seed files through one loader (`seed`).

The seeds are the single source: dbt loads them into `reference.*` for the SQL side (marts, routing,
reports' joins), and Python reads the same files here, never a copy of its own. Python reads the files
rather than `reference.*` because it needs them before the warehouse has them: ingest runs before dbt
seeds a fresh warehouse (departments, unit factors), and the data team's mail about a quarantined file
must be addressed even before the first dbt build. Files are read again when they change, so an edited
seed takes effect on the next run without a restart.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from econ_monitor.settings import PROJECT_DIR

SEEDS_DIR = PROJECT_DIR / "dbt_project" / "seeds"
DISPATCH_CENTRE = "D00"
DATA_TEAM = "DT0"


@lru_cache(maxsize=64)
def _read(path: Path, modified_ns: int) -> tuple[MappingProxyType, ...]:
    # Read-only rows: every caller shares the cached ones, so one caller's edit would be the next's data.
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(MappingProxyType(row) for row in csv.DictReader(handle))


def seed(name: str) -> tuple[MappingProxyType, ...]:
    """The rows of `seeds/<name>.csv` (read-only mappings of column to text), in the file's order (the
    work plan's order where it matters)."""
    path = SEEDS_DIR / f"{name}.csv"
    return _read(path, path.stat().st_mtime_ns)


@dataclass(frozen=True)
class Leader:
    code: str
    title: str
    email: str
    role: str
    escalates_to: str | None


def leaders() -> dict[str, Leader]:
    return {
        row["leader_code"]: Leader(
            row["leader_code"], row["title"], row["email"], row["role"], row["escalates_to"] or None
        )
        for row in seed("leaders")
    }


def leader(code: str) -> Leader:
    return leaders()[code]


def departments() -> tuple[str, ...]:
    """The department codes files are delivered under (`<landing>/<department>/<file>`)."""
    return tuple(row["department_code"] for row in seed("departments"))


def unit_factors() -> dict[tuple[str, str], Decimal]:
    """(from unit, to unit) -> the factor a value is multiplied by: the seed dbt converts targets with."""
    return {(row["from_unit"], row["to_unit"]): Decimal(row["factor"]) for row in seed("unit_conversions")}
