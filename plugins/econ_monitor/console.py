"""What `econ-monitor run` and `make demo` show a person at the terminal, and where the rest goes.

Airflow, cosmos and dbt write thousands of lines per run: structlog and `logging` records, and dbt's
per-node lines, which dbt prints straight to the process's standard output. They are all sent to one log
file under `<local_dir>/logs/` by redirecting the process's file descriptors 1 and 2 (a `logging` handler
would miss dbt and anything written by C code or child processes). The terminal keeps a duplicate of the
original descriptor: the command prints its progress and summary there, and names the log file.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TextIO

# structlog's and logging's error records as they appear in the log file: "… [error    ] …", "ERROR …".
_ERROR_RECORD = re.compile(r"\[(error|critical)\s*\]|^(ERROR|CRITICAL)\b")
# A line that starts a new record; the lines between two of them (a traceback) belong to the first.
_NEW_RECORD = re.compile(
    r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\S*\d{2}:\d{2}:\d{2}\s|(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b)"
)
ERROR_EXCERPT_LINES = 8


def new_log_path(local_dir: Path, command: str) -> Path:
    """`<local_dir>/logs/<command>-<UTC time>.log`: one file per invocation, kept for later reading."""
    directory = local_dir / "logs"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{command}-{datetime.utcnow():%Y%m%dT%H%M%S}.log"


@contextmanager
def output_to_log(log_path: Path) -> Iterator[TextIO]:
    """Send everything written to standard output and error, by this process and its children, to the
    log file; yield a stream to the terminal (the original standard output)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding="utf-8", errors="replace")
    try:
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        yield terminal
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        for fd in (saved_out, saved_err, log_fd):
            os.close(fd)
        terminal.close()


def log_size(log_path: Path) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    return log_path.stat().st_size if log_path.exists() else 0


def error_excerpt(log_path: Path, since: int) -> list[str]:
    """The last error record written to the log after byte offset `since` (what a failing task said): its
    first line and the end of its traceback, where the exception's message is."""
    with log_path.open("rb") as handle:
        handle.seek(since)
        lines = handle.read().decode("utf-8", errors="replace").splitlines()
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in lines]  # dbt colours its lines
    errors = [index for index, line in enumerate(lines) if _ERROR_RECORD.search(line)]
    if not errors:
        return []
    end = errors[-1] + 1
    while end < len(lines) and not _NEW_RECORD.match(lines[end]):
        end += 1
    record = lines[errors[-1] : end]
    if len(record) > ERROR_EXCERPT_LINES:
        record = [record[0], "…", *record[-(ERROR_EXCERPT_LINES - 2) :]]
    return record


class Progress:
    """On a terminal, one line rewritten in place while a DAG runs: `[done/total] task being run`. It reads
    the task states from Airflow's SQLite metadata database (read-only), so it needs no hook in Airflow."""

    def __init__(self, terminal: TextIO, metadata_db: Path, dag_id: str, interval: float = 1.0):
        self.terminal, self.metadata_db, self.dag_id, self.interval = terminal, metadata_db, dag_id, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"progress-{dag_id}", daemon=True)
        self._started_after: int | None = None

    def __enter__(self) -> Progress:
        if self.terminal.isatty() and self.metadata_db.exists():
            self._started_after = self._newest_run_id()
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
            self.terminal.write("\r\x1b[K")
            self.terminal.flush()

    def _query(self, sql: str, params: tuple) -> list[tuple]:
        with sqlite3.connect(f"file:{self.metadata_db}?mode=ro", uri=True, timeout=1) as db:
            return db.execute(sql, params).fetchall()

    def _newest_run_id(self) -> int:
        rows = self._query("SELECT max(id) FROM dag_run WHERE dag_id = ?", (self.dag_id,))
        return rows[0][0] or 0

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                states = self._query(
                    """SELECT task_id, state FROM task_instance WHERE dag_id = ? AND run_id =
                         (SELECT run_id FROM dag_run WHERE dag_id = ? AND id > ? ORDER BY id DESC LIMIT 1)""",
                    (self.dag_id, self.dag_id, self._started_after),
                )
            except sqlite3.Error:
                continue  # the database is being written: next time
            if not states:
                continue
            done = sum(state in ("success", "skipped", "failed", "upstream_failed") for _, state in states)
            running = [task for task, state in states if state in ("running", "queued")]
            line = f"  {self.dag_id} [{done}/{len(states)}] {', '.join(running) or '…'}"
            width = shutil.get_terminal_size((100, 20)).columns - 1
            self.terminal.write("\r\x1b[K" + line[:width])
            self.terminal.flush()
