#!/usr/bin/env bash
# Apache Superset on the marts, with the indicator board imported: deploy/superset.sh up|down|serve.
#
#   up     (a checkout) creates Superset's own venv (.local/superset-venv: its pins conflict with Airflow's),
#          lets bi_reader log in to the warehouse (the demo's embedded one, or ECON_WAREHOUSE_URL), imports
#          the board from deploy/superset/board/ and serves Superset on 127.0.0.1:${SUPERSET_PORT:-8088}.
#   down   stops it.
#   serve  (compose's superset service) the same set-up in the foreground, from SUPERSET_DATABASE_URI,
#          ECON_BI_URI, SUPERSET_SECRET_KEY and SUPERSET_ADMIN_PASSWORD in the environment.
# Secrets: generated once into .local/superset/ (mode 0600) by `up`, from .env in compose; never in the repo.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
project="$(cd "$here/.." && pwd)"
state="${SUPERSET_STATE_DIR:-$project/.local/superset}"
venv="${SUPERSET_VENV:-$project/.local/superset-venv}"
port="${SUPERSET_PORT:-8088}"
export SUPERSET_CONFIG_PATH="$here/superset/superset_config.py"
export SUPERSET_LOAD_EXAMPLES=no DO_NOT_TRACK=1 SCARF_ANALYTICS=false

secret() {  # a secret kept in $state/$1, generated once
  if [ ! -s "$state/$1" ]; then (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > "$state/$1"); fi
  cat "$state/$1"
}

# Superset's own tables, the admin, the warehouse connection and the board; idempotent.
setup() {
  local superset="$1"
  "$superset" db upgrade >/dev/null 2>&1
  "$superset" fab create-admin --username admin --firstname Econ --lastname Admin \
    --email admin@jiaozhou.example --password "$SUPERSET_ADMIN_PASSWORD" >/dev/null 2>&1 || true
  "$superset" fab reset-password --username admin --password "$SUPERSET_ADMIN_PASSWORD" >/dev/null 2>&1 || true
  "$superset" init >/dev/null 2>&1
  # The board's database 经济运行数仓 is bi_reader on the warehouse: the export in the repo has a placeholder
  # URI; the real one (with its password) goes only into the temporary bundle that is imported.
  local bundle
  bundle="$(mktemp -d)"
  cp -r "$here/superset/board" "$bundle/board"
  python3 - "$bundle" <<'PY'
import json, os, pathlib, shutil, sys
bundle = pathlib.Path(sys.argv[1])
for path in (bundle / "board" / "databases").glob("*.yaml"):
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [f"sqlalchemy_uri: {json.dumps(os.environ['ECON_BI_URI'])}" if l.startswith("sqlalchemy_uri:") else l for l in lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
shutil.make_archive(str(bundle / "board"), "zip", str(bundle), "board")
PY
  "$superset" import-dashboards --path "$bundle/board.zip" --username admin
  rm -rf "$bundle"
}

case "${1:-}" in
  up)
    mkdir -p "$state"
    if [ ! -x "$venv/bin/superset" ]; then
      echo "installing Apache Superset into $venv (a few minutes)"
      python3.11 -m venv "$venv"
      nice "$venv/bin/pip" install --quiet -r "$here/superset/requirements.txt"
    fi
    if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then echo "already running"; exit 0; fi
    econ_python="${ECON_PYTHON:-$project/.venv/bin/python}"
    export SUPERSET_SECRET_KEY="${SUPERSET_SECRET_KEY:-$(secret secret_key)}"
    export SUPERSET_ADMIN_PASSWORD="${SUPERSET_ADMIN_PASSWORD:-$(secret admin_password)}"
    export SUPERSET_DATABASE_URI="${SUPERSET_DATABASE_URI:-sqlite:///$state/superset.db}"
    export ECON_BI_URI="${ECON_BI_URI:-$(PYTHONPATH="$project/plugins${PYTHONPATH:+:$PYTHONPATH}" "$econ_python" "$here/bi_reader.py" "$state/bi_reader_password")}"
    setup "$venv/bin/superset"
    "$venv/bin/gunicorn" --bind "127.0.0.1:$port" --workers 2 --timeout 120 --daemon --pid "$state/pid" \
      --error-logfile "$state/superset.log" "superset.app:create_app()"
    for _ in $(seq 120); do
      if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "http://127.0.0.1:$port/health" 2>/dev/null; then
        echo "Superset: http://127.0.0.1:$port  (user admin, password in $state/admin_password)"
        exit 0
      fi
      sleep 1
    done
    echo "Superset did not answer on :$port; see $state/superset.log" >&2
    exit 1
    ;;
  down)
    if [ -f "$state/pid" ]; then kill "$(cat "$state/pid")" 2>/dev/null || true; rm -f "$state/pid"; fi
    ;;
  serve)
    : "${SUPERSET_SECRET_KEY:?}" "${SUPERSET_ADMIN_PASSWORD:?}" "${SUPERSET_DATABASE_URI:?}" "${ECON_BI_URI:?}"
    setup "${SUPERSET_BIN:-superset}"
    exec gunicorn --bind "0.0.0.0:8088" --workers 2 --timeout 120 "superset.app:create_app()"
    ;;
  *)
    echo "usage: deploy/superset.sh up|down|serve" >&2
    exit 2
    ;;
esac
