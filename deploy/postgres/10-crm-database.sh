#!/usr/bin/env bash
# First-start initialisation of the postgres:15 container (/docker-entrypoint-initdb.d): creates the
# application role and the `crm` database it owns. Runs once, when the data volume is empty; the
# tables are created by `crm migrate`. The superuser (POSTGRES_USER) stays for operators only.
#
# Environment (from .env through docker-compose.yml): CRM_DB_USER (default crm), CRM_DB_PASSWORD.
# To change the password later: ALTER ROLE ... PASSWORD, then update .env.
set -euo pipefail

app_user="${CRM_DB_USER:-crm}"
if [ -z "${CRM_DB_PASSWORD:-}" ]; then
    echo "10-crm-database.sh: CRM_DB_PASSWORD is not set (see .env.example)" >&2
    exit 1
fi

# psql variables keep the name and the password quoted correctly, whatever they contain.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set=app_user="$app_user" --set=app_password="$CRM_DB_PASSWORD" <<'SQL'
-- No CREATEROLE (in PostgreSQL 15 nearly a superuser): the accounts job creates the services' roles as the
-- superuser. This role owns the database and its tables and grants the service roles their share.
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';
CREATE DATABASE crm OWNER :"app_user" ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE crm FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE crm TO :"app_user";
SQL

echo "10-crm-database.sh: role ${app_user} and database crm created"
