"""Steps the tests share: load a landing directory and build the marts, as the DAG does."""

from __future__ import annotations

from pathlib import Path

import psycopg

from econ_monitor.ingest.loader import LoadResult, ingest_landing
from econ_monitor.settings import load_settings
from econ_monitor.transform import build


def load(conn: psycopg.Connection, landing: Path) -> list[LoadResult]:
    return ingest_landing(conn, landing, load_settings().quarantine_dir)


def load_and_build(conn: psycopg.Connection, url: str, landing: Path) -> list[LoadResult]:
    results = load(conn, landing)
    build(url)
    return results


def rows(conn: psycopg.Connection, query: str, params: tuple = ()) -> list[tuple]:
    return conn.execute(query, params).fetchall()


def noted_events(conn: psycopg.Connection, alert_key: str) -> list[tuple]:
    """What leaders wrote on a warning (claim, feedback, close), oldest first: (event_type, actor, note)."""
    return rows(
        conn,
        """SELECT event_type, actor, note FROM monitor.alert_events
           WHERE alert_key = %s AND note IS NOT NULL ORDER BY event_id""",
        (alert_key,),
    )
