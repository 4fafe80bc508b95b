"""Reference data the Python side needs (leaders and their addresses), read from the dbt seed files.

The seeds are the single source: dbt loads them into `reference.*` for the marts, and routing reads
the same files, so the data team's mail can be addressed even before the first dbt build.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from econ_monitor.settings import PROJECT_DIR

SEEDS_DIR = PROJECT_DIR / "dbt_project" / "seeds"
DISPATCH_CENTRE = "D00"
DATA_TEAM = "DT0"


@dataclass(frozen=True)
class Leader:
    code: str
    title: str
    email: str
    role: str
    escalates_to: str | None


@lru_cache(maxsize=1)
def leaders() -> dict[str, Leader]:
    with (SEEDS_DIR / "leaders.csv").open(encoding="utf-8") as handle:
        return {
            row["leader_code"]: Leader(
                row["leader_code"], row["title"], row["email"], row["role"], row["escalates_to"] or None
            )
            for row in csv.DictReader(handle)
        }


def leader(code: str) -> Leader:
    return leaders()[code]
