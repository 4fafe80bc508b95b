"""What a report is once built: its HTML and text, and the figures it was built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Report:
    kind: str  # 'monthly_bulletin' (月通报) or 'weekly_dispatch' (周调度)
    period: str  # machine form, used in the archive path and the mails' dedupe keys: '2025-09' / '2025-09-26'
    period_label: str  # as people read it: '2025年1-9月' / '2025年9月26日'
    title: str
    html: str  # a complete standalone HTML document, charts embedded as base64 PNG
    text: str  # the plain-text version for the mail
    data: dict[str, Any] = field(default_factory=dict)  # the rows the report shows, as read from the marts
    charts: dict[str, bytes] = field(default_factory=dict)  # chart name → PNG bytes (also embedded in html)
