"""Bring the platform's own tables up to date (Alembic); dbt builds staging, intermediate and marts."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from econ_monitor.warehouse import sqlalchemy_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def migrate(url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on '%' in a URL-encoded password.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    command.upgrade(config, "head")
