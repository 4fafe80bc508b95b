#!/usr/bin/env bash
# First start of the compose Postgres: one database for Airflow's metadata, one for the warehouse, one
# for Superset's own state, and the BI role that may read the marts and nothing else (grants come from
# dbt; the platform's migrations create bi_reader NOLOGIN where no deployment made it a login).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" \
  -v airflow_pw="$AIRFLOW_DB_PASSWORD" -v econ_pw="$ECON_DB_PASSWORD" -v bi_pw="$BI_READER_PASSWORD" \
  -v superset_pw="$SUPERSET_DB_PASSWORD" <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_pw';
CREATE DATABASE airflow OWNER airflow;
CREATE ROLE econ LOGIN PASSWORD :'econ_pw';
CREATE DATABASE econ OWNER econ;
CREATE ROLE bi_reader LOGIN PASSWORD :'bi_pw';
CREATE ROLE superset LOGIN PASSWORD :'superset_pw';
CREATE DATABASE superset OWNER superset;
SQL
