#!/usr/bin/env bash
# Runs the whole system locally: servers on loopback (installed when missing), a build, the
# migrations, all four services and the web console, then data (the CDNOW master through crm load-orders, a replay of
# its last day, sample complaints). Ctrl-C stops the services and the servers this run started;
# servers that were already running are left running.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/servers.sh
source .local/env
started_servers="$(cat .local/started 2>/dev/null || true)"
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
swift build -c release
bin="$(swift build -c release --show-bin-path)"
export CRM_DATABASE_URL="$CRM_LOCAL_DATABASE_URL" CRM_AMQP_URL="$CRM_LOCAL_AMQP_URL" CRM_LOG_LEVEL="${CRM_LOG_LEVEL:-info}"
"$bin/crm" migrate
# Each service runs as its own PostgreSQL role and RabbitMQ user (made by servers.sh), as deployed:
# crm accounts grants them their tables in the crm database and their permissions on the crm vhost.
# The web console's first user: admin, with CRM_CONSOLE_ADMIN_PASSWORD when set, else a password generated
# here and kept in .local/console-admin.secret (printed at the end).
console_password_shown="as in CRM_CONSOLE_ADMIN_PASSWORD"
if [ -z "${CRM_CONSOLE_ADMIN_PASSWORD:-}" ]; then
  [ -s .local/console-admin.secret ] || python3 -c 'import secrets; print(secrets.token_urlsafe(18))' >.local/console-admin.secret
  chmod 600 .local/console-admin.secret
  CRM_CONSOLE_ADMIN_PASSWORD="$(cat .local/console-admin.secret)"
  console_password_shown="$CRM_CONSOLE_ADMIN_PASSWORD (in .local/console-admin.secret)"
fi
CRM_INTAKE_PASSWORD="$CRM_TEST_INTAKE_PASSWORD" CRM_SCORING_PASSWORD="$CRM_TEST_SCORING_PASSWORD" \
  CRM_ALERTS_PASSWORD="$CRM_TEST_ALERTS_PASSWORD" CRM_COMPLAINTS_PASSWORD="$CRM_TEST_COMPLAINTS_PASSWORD" \
  CRM_CONSOLE_PASSWORD="$CRM_TEST_CONSOLE_PASSWORD" CRM_CONSOLE_ADMIN_PASSWORD="$CRM_CONSOLE_ADMIN_PASSWORD" \
  CRM_RABBITMQ_API="$CRM_TEST_RABBITMQ_API" "$bin/crm" accounts --all

mkdir -p .local/logs
pids=()
stop() {
  echo "Stopping services..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  while read -r server version cluster; do
    case "$server" in
      postgresql) echo "Stopping PostgreSQL (started by this run)"; as_root pg_ctlcluster "$version" "$cluster" stop || true ;;
      rabbitmq) echo "Stopping RabbitMQ (started by this run)"; as_root rabbitmqctl -q stop >/dev/null 2>&1 || true ;;
    esac
  done <<<"$started_servers"
}
trap stop EXIT INT TERM
port=8081
for name in intake scoring alerts complaints; do
  service="crm-$name" password_variable="CRM_TEST_${name^^}_PASSWORD"
  CRM_DATABASE_URL="${CRM_LOCAL_DATABASE_URL/#*@/postgres://crm_$name:${!password_variable}@}" \
    CRM_AMQP_URL="${CRM_LOCAL_AMQP_URL/#*@/amqp://crm_$name:${!password_variable}@}" \
    CRM_HTTP_PORT=$port "$bin/$service" >".local/logs/$service.log" 2>&1 &
  pids+=($!)
  echo "$service as crm_$name: http://127.0.0.1:$port/health/ready  (logs: .local/logs/$service.log)"
  port=$((port + 1))
done
# The console reads the database only: its own role, no broker account.
CRM_DATABASE_URL="${CRM_LOCAL_DATABASE_URL/#*@/postgres://crm_console:${CRM_TEST_CONSOLE_PASSWORD}@}" \
  CRM_HTTP_PORT=8088 CRM_CONSOLE_SECURE_COOKIES=false "$bin/crm-console" >".local/logs/crm-console.log" 2>&1 &
pids+=($!)
echo "crm-console as crm_console: http://127.0.0.1:8088/console/  (logs: .local/logs/crm-console.log)"
for port in 8081 8082 8083 8084 8088; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
done
"$bin/crm" load-orders Tests/Fixtures/cdnow/CDNOW_master.txt
# Wait until intake has stored every order and scoring has scored every customer, then replay the end
# of the CDNOW observation period: the data is from 1997-98, so wall-clock scores would find every
# customer long gone.
count() { psql "$CRM_DATABASE_URL" -Atc "SELECT count(*) FROM $1" 2>/dev/null || echo 0; }
for _ in $(seq 1 300); do
  [ "$(count orders)" -ge 69659 ] && [ "$(count customer_scores)" -ge 23570 ] && break
  sleep 1
done
"$bin/crm" rescore --as-of 1998-06-30
"$bin/crm" customer 00004
"$bin/crm" load-complaints deploy/samples/complaints.jsonl
sleep 3
"$bin/crm" status
cat <<MSG

The system is running against PostgreSQL and RabbitMQ on loopback.
  Metrics:     http://127.0.0.1:8081/metrics (intake), 8082 (scoring), 8083 (alerts), 8084 (complaints)
  Console:     http://127.0.0.1:8088/console/  (user admin, password $console_password_shown)
  Broker UI:   http://127.0.0.1:15672 (user crm_admin, password in ${CRM_SECRETS_DIR:-~/.local/state/crm}/rabbitmq-admin.secret)
  Operator:    source .local/env; export CRM_DATABASE_URL=\$CRM_LOCAL_DATABASE_URL CRM_AMQP_URL=\$CRM_LOCAL_AMQP_URL
               $bin/crm status | crm customer 00004 | crm desks | crm --help
  Queues:      alerts.retention.p1..p3 (retention alerts), desk.<name> and desk.escalations (complaints)
Press Ctrl-C to stop.
MSG
wait
