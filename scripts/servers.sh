#!/usr/bin/env bash
# Installs what is missing and starts PostgreSQL and RabbitMQ on loopback, then makes sure the
# local administrator accounts exist. Idempotent: run it as often as you like.
#
# Writes .local/env with the URLs the test suite and the local run use. The passwords in it are
# generated on first use and stay on this machine, outside every checkout (CRM_SECRETS_DIR, default
# ~/.local/state/crm), so that two checkouts sharing the servers agree on them (.local/ is ignored by git).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
local_dir="$root/.local"
mkdir -p "$local_dir"
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
log() { printf '[servers] %s\n' "$*" >&2; }

# --- packages -------------------------------------------------------------------------------------
# socat and openssl: the TLS test puts a TLS listener with a throw-away certificate in front of the broker.
packages=(rabbitmq-server postgresql librabbitmq-dev libpq-dev pkg-config python3 socat openssl)
missing=()
for package in "${packages[@]}"; do
  # Output captured first: with pipefail, `grep -q` closing a pipe early makes the pipeline fail (SIGPIPE).
  status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
  [[ "$status" == *"install ok installed"* ]] || missing+=("$package")
done
# chromium (and a font for its pages): the web console's browser tests drive it headless; no recommends, so it
# brings no desktop with it.
browser_packages=(chromium fonts-dejavu-core)
browser_missing=()
for package in "${browser_packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
  [[ "$status" == *"install ok installed"* ]] || browser_missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ] || [ ${#browser_missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} ${browser_missing[*]}"
  as_root apt-get update -qq
  # The packages' own start-up is skipped: the servers are started below, on loopback.
  if [ ${#missing[@]} -gt 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if [ ${#browser_missing[@]} -gt 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${browser_missing[@]}" >/dev/null
  fi
fi

# promtool (Debian's `prometheus` package) checks /metrics, the alerting rules and their unit tests in the test
# suite. Without recommends it is the Prometheus binaries alone (about 15 s); its own server is not started.
if ! command -v promtool >/dev/null; then
  log "installing prometheus (for promtool)"
  [ ${#missing[@]} -gt 0 ] || as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

secrets_dir="${CRM_SECRETS_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/crm}"
secret() {
  local file="$secrets_dir/$1.secret"
  mkdir -p "$secrets_dir" && chmod 700 "$secrets_dir"
  # A checkout that kept its secrets in .local/ hands them over, so its servers' passwords stay.
  [ -s "$file" ] || [ ! -s "$local_dir/$1.secret" ] || cp "$local_dir/$1.secret" "$file"
  [ -s "$file" ] || python3 -c 'import secrets; print(secrets.token_hex(16))' >"$file"
  chmod 600 "$file"
  cat "$file"
}

# --- PostgreSQL -------------------------------------------------------------------------------------
pg_version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
if [ -z "$(pg_lsclusters -h 2>/dev/null || true)" ]; then
  log "creating PostgreSQL $pg_version cluster"
  as_root pg_createcluster "$pg_version" main -- --auth-local=peer --auth-host=scram-sha-256 >/dev/null
fi
read -r pg_version pg_cluster pg_port pg_status _ < <(pg_lsclusters -h | head -1)
# What this run started, so a caller (scripts/run-local.sh) can stop exactly that and leave the rest.
started=()
if [ "$pg_status" != "online" ]; then
  started+=("postgresql $pg_version $pg_cluster")
  log "starting PostgreSQL $pg_version/$pg_cluster on 127.0.0.1:$pg_port"
  as_root pg_ctlcluster "$pg_version" "$pg_cluster" start -o "-c listen_addresses=127.0.0.1 -c max_connections=300"
fi
pg_password="$(secret postgres-admin)"
as_root su postgres -c "psql -q -p $pg_port -v ON_ERROR_STOP=1 -v pw='$pg_password'" >/dev/null <<'SQL'
SELECT format('CREATE ROLE crm_admin LOGIN SUPERUSER PASSWORD %L', :'pw')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crm_admin') \gexec
SELECT format('ALTER ROLE crm_admin PASSWORD %L', :'pw') \gexec
SELECT 'CREATE DATABASE crm OWNER crm_admin' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'crm') \gexec
-- The test suite runs many tests at once, each with its own pool and service processes; a restart keeps this.
ALTER SYSTEM SET max_connections = 300;
SQL

# --- RabbitMQ ---------------------------------------------------------------------------------------
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1
if ! as_root rabbitmqctl -q ping >/dev/null 2>&1 && ! pgrep -u rabbitmq -f "beam.*rabbit" >/dev/null; then
  started+=("rabbitmq")
  log "starting RabbitMQ on 127.0.0.1:5672"
  as_root env RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1 rabbitmq-plugins -q --offline enable rabbitmq_management >/dev/null
  as_root env RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-rabbitmq_management tcp_config [{ip,\"127.0.0.1\"},{port,15672}]" \
    rabbitmq-server -detached
fi
# A detached node registers with epmd a few seconds after it is launched; until then
# await_startup fails at once, so wait for the node to answer first.
for _ in $(seq 1 120); do
  as_root rabbitmqctl -q ping >/dev/null 2>&1 && break
  sleep 1
done
if ! as_root rabbitmqctl -q await_startup --timeout 120 >/dev/null; then
  log "RabbitMQ did not start; the end of its log follows"
  as_root sh -c 'tail -n 40 /var/log/rabbitmq/rabbit@*.log' >&2 || true
  exit 1
fi
as_root rabbitmq-plugins -q enable rabbitmq_management >/dev/null 2>&1 || true
amqp_password="$(secret rabbitmq-admin)"
rabbit_users="$(as_root rabbitmqctl -q list_users)"
if ! grep -q '^crm_admin' <<<"$rabbit_users"; then
  as_root rabbitmqctl -q add_user crm_admin "$amqp_password" >/dev/null
else
  as_root rabbitmqctl -q change_password crm_admin "$amqp_password" >/dev/null
fi
as_root rabbitmqctl -q set_user_tags crm_admin administrator >/dev/null
rabbit_vhosts="$(as_root rabbitmqctl -q list_vhosts)"
grep -qx crm <<<"$rabbit_vhosts" || as_root rabbitmqctl -q add_vhost crm >/dev/null
as_root rabbitmqctl -q set_permissions -p crm crm_admin '.*' '.*' '.*' >/dev/null
as_root rabbitmqctl -q set_permissions -p / crm_admin '.*' '.*' '.*' >/dev/null

# --- per-service accounts ---------------------------------------------------------------------------
# A PostgreSQL role and a RabbitMQ user per service (crm_intake, crm_scoring, crm_alerts, crm_complaints;
# crm_console has a PostgreSQL role only: the web console never touches the broker), as deployed: tests connect as each to prove it reaches only its own tables and queues, and
# scripts/run-local.sh runs every service with its own account. They get no privileges here: `crm migrate`
# and `crm accounts` grant a role its tables in one database, and a user its permissions on one vhost.
# The passwords derive from the administrator's secret, so every copy of .local/ on this machine agrees
# on them; a role's password is set only when logging in with it fails.
services=(intake scoring alerts complaints console)
broker_services=(intake scoring alerts complaints)
mapfile -t service_passwords < <(CRM_SECRET="$pg_password" python3 -c '
import hashlib, os, sys
for service in sys.argv[1:]:
    print(hashlib.sha256(("crm-service-account:" + service + ":" + os.environ["CRM_SECRET"]).encode()).hexdigest()[:32])
' "${services[@]}")
for index in "${!services[@]}"; do
  role="crm_${services[$index]}" password="${service_passwords[$index]}"
  if ! PGPASSWORD="$password" PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -p "$pg_port" -U "$role" -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; then
    log "setting the password of PostgreSQL role $role"
    as_root su postgres -c "psql -q -p $pg_port -v ON_ERROR_STOP=1 -v role='$role' -v pw='$password'" >/dev/null <<'SQL'
SELECT format('CREATE ROLE %I', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD %L', :'role', :'pw') \gexec
SQL
  fi
done
# RabbitMQ users through the management API (each rabbitmqctl call costs a second or two); a PUT that
# changes nothing is harmless. The management listener may still be starting.
CRM_ADMIN_PASSWORD="$amqp_password" CRM_SERVICE_PASSWORDS="${service_passwords[*]:0:${#broker_services[@]}}" python3 -c '
import base64, json, os, sys, time, urllib.request
auth = "Basic " + base64.b64encode(("crm_admin:" + os.environ["CRM_ADMIN_PASSWORD"]).encode()).decode()
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request("http://127.0.0.1:15672" + path, data=data, method=method,
                                     headers={"Authorization": auth, "Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()
for attempt in range(60):
    try:
        call("GET", "/api/overview")
        break
    except Exception:
        if attempt == 59:
            sys.exit("the RabbitMQ management API did not answer")
        time.sleep(1)
for service, password in zip(sys.argv[1:], os.environ["CRM_SERVICE_PASSWORDS"].split()):
    call("PUT", "/api/users/crm_" + service, {"password": password, "tags": ""})
' "${broker_services[@]}"

cat >"$local_dir/env" <<EOF
# Written by scripts/servers.sh: local servers on loopback, administrator and per-service accounts.
export CRM_TEST_DATABASE_URL='postgres://crm_admin:$pg_password@127.0.0.1:$pg_port/postgres'
export CRM_TEST_AMQP_URL='amqp://crm_admin:$amqp_password@127.0.0.1:5672/%2F'
export CRM_TEST_RABBITMQ_API='http://127.0.0.1:15672'
export CRM_LOCAL_DATABASE_URL='postgres://crm_admin:$pg_password@127.0.0.1:$pg_port/crm'
export CRM_LOCAL_AMQP_URL='amqp://crm_admin:$amqp_password@127.0.0.1:5672/crm'
# Each service's own PostgreSQL role and RabbitMQ user crm_<service> share one password (crm_console: a role only).
$(for index in "${!services[@]}"; do
  printf "export CRM_TEST_%s_PASSWORD='%s'\n" "${services[$index]^^}" "${service_passwords[$index]}"
done)
EOF
chmod 600 "$local_dir/env"
printf '%s\n' "${started[@]+"${started[@]}"}" >"$local_dir/started"
log "PostgreSQL and RabbitMQ are up on loopback; settings in .local/env"
