"""One way to render mails and reports: Jinja with autoescaping for HTML (everything that comes from the
data is escaped), strict undefined variables (a typo fails loudly instead of mailing a blank)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape


def template_environment(directory: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
