"""Let the BI tool log in as bi_reader: `python deploy/bi_reader.py PASSWORD_FILE` prints the SQLAlchemy
URI Superset connects with.

The platform's migrations create bi_reader without login (it reads the marts and nothing else; grants
come from dbt). A deployment that runs a BI tool makes it a login with a password of its own: generated
once into PASSWORD_FILE (mode 0600) and never written into the repository. Compose's init script does the
same with BI_READER_PASSWORD from .env.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.engine import URL

from econ_monitor.schema import migrate
from econ_monitor.warehouse import connect, warehouse_url


def main(password_file: Path) -> str:
    url = warehouse_url()
    migrate(url)  # creates the role where no run has yet
    if not password_file.exists():
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.touch(mode=0o600)
        password_file.write_text(secrets.token_urlsafe(32), encoding="utf-8")
    password = password_file.read_text(encoding="utf-8").strip()
    with connect(url) as conn:
        conn.execute(sql.SQL("ALTER ROLE bi_reader LOGIN PASSWORD {}").format(sql.Literal(password)))
    params = conninfo_to_dict(url)
    host = str(params.get("host") or "localhost")
    socket_dir = host.startswith("/")
    return URL.create(
        "postgresql+psycopg2",
        username="bi_reader",
        password=password,
        host=None if socket_dir else host,
        port=None if socket_dir or not params.get("port") else int(params["port"]),
        database=str(params.get("dbname")),
        query={"host": host} if socket_dir else {},
    ).render_as_string(hide_password=False)


if __name__ == "__main__":
    print(main(Path(sys.argv[1])))
