"""Superset's configuration for the platform (SUPERSET_CONFIG_PATH points here), the same for
`deploy/superset.sh` and compose. Everything deployment-specific comes from the environment; nothing
secret is written here, and Superset refuses to start without a SECRET_KEY."""

import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ["SUPERSET_DATABASE_URI"]
# Offline networks: no analytics pixel, no example data, no external map tiles.
SCARF_ANALYTICS = False
MAPBOX_API_KEY = ""
# BI users browse the marts; they do not upload files or run DML through SQL Lab.
CSV_EXTENSIONS = set()
PREVENT_UNSAFE_DB_CONNECTIONS = True
FEATURE_FLAGS = {"DASHBOARD_RBAC": False}
BABEL_DEFAULT_LOCALE = os.environ.get("SUPERSET_LOCALE", "zh")
# The board is read over the REST API by the tests and by scripts: allow JWT-authenticated API calls
# without a browser's CSRF token (the API needs a bearer token anyway).
WTF_CSRF_EXEMPT_LIST = ["superset.views.core.log", "superset.charts.data.api.data"]
