#!/usr/bin/env bash
# A bounded soak run: the four services (release build) under a steady stream of orders for N minutes
# (default 10), sampling each process's resident memory and open file descriptors every round. Prints the
# samples and, per service, the first, last and peak figures: flat lines mean nothing leaks.
# Not part of the test command. Usage: scripts/soak.sh [MINUTES] [ORDERS_PER_ROUND]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
minutes="${1:-10}"
per_round="${2:-10000}"
bash scripts/servers.sh
source .local/env
swift build -c release >/dev/null
bin="$(swift build -c release --show-bin-path)"

# A database and a vhost of its own, removed at the end.
name="crm_soak"
admin_db="${CRM_TEST_DATABASE_URL}"
psql "$admin_db" -qc "DROP DATABASE IF EXISTS $name" -qc "CREATE DATABASE $name"
rabbitmqctl -q delete_vhost "$name" >/dev/null 2>&1 || true
rabbitmqctl -q add_vhost "$name" >/dev/null
rabbitmqctl -q set_permissions -p "$name" crm_admin '.*' '.*' '.*' >/dev/null
export CRM_DATABASE_URL="${admin_db%/postgres}/$name" CRM_AMQP_URL="${CRM_TEST_AMQP_URL%/*}/$name" CRM_LOG_LEVEL=warning
"$bin/crm" migrate >/dev/null

work="$(mktemp -d)"
declare -A pids
cleanup() {
  for service in "${!pids[@]}"; do kill -TERM "${pids[$service]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$admin_db" -qc "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1 || true
  rabbitmqctl -q delete_vhost "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
port=8091
for service in crm-intake crm-scoring crm-alerts crm-complaints; do
  CRM_HTTP_PORT=$port "$bin/$service" >"$work/$service.log" 2>&1 &
  pids[$service]=$!
  port=$((port + 1))
done
sleep 3

sample() {  # service round → "rss_kib fds"
  local pid="${pids[$1]}"
  local rss fds
  rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)"
  fds="$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)"
  echo "$rss $fds"
}

rounds=$((minutes * 6))
printf '%-6s %-8s' round orders
for service in crm-intake crm-scoring crm-alerts crm-complaints; do printf ' %22s' "$service rss/fds"; done
echo
declare -A first last peak
for round in $(seq 1 "$rounds"); do
  started=$(date +%s)
  python3 - "$round" "$per_round" >"$work/orders.jsonl" <<'PY'
import json, sys
round_, count = int(sys.argv[1]), int(sys.argv[2])
for i in range(count):
    n = round_ * count + i
    print(json.dumps({"schema": "order.v1", "order_id": f"soak-{n}", "customer_id": f"C-{n % 20000}",
                      "occurred_at": "2026-11-%02dT10:00:00Z" % (1 + n % 20), "amount": f"{n % 90 + 10}.00",
                      "currency": "USD"}))
PY
  "$bin/crm" load-orders "$work/orders.jsonl" >/dev/null 2>&1
  printf '%-6s %-8s' "$round" "$((round * per_round))"
  for service in crm-intake crm-scoring crm-alerts crm-complaints; do
    read -r rss fds < <(sample "$service")
    [ -z "${first[$service]:-}" ] && first[$service]="$rss $fds"
    last[$service]="$rss $fds"
    read -r peak_rss _ <<<"${peak[$service]:-0 0}"
    [ "$rss" -gt "$peak_rss" ] && peak[$service]="$rss $fds"
    printf ' %22s' "$((rss / 1024)) MiB / $fds"
  done
  echo
  elapsed=$(( $(date +%s) - started ))
  [ "$elapsed" -lt 10 ] && sleep $((10 - elapsed))
done

echo
echo "service          first rss/fds      last rss/fds       peak rss"
for service in crm-intake crm-scoring crm-alerts crm-complaints; do
  read -r f_rss f_fds <<<"${first[$service]}"
  read -r l_rss l_fds <<<"${last[$service]}"
  read -r p_rss _ <<<"${peak[$service]}"
  printf '%-16s %6s MiB / %-4s  %6s MiB / %-4s  %6s MiB\n' "$service" "$((f_rss / 1024))" "$f_fds" \
    "$((l_rss / 1024))" "$l_fds" "$((p_rss / 1024))"
done
stored="$(psql "$CRM_DATABASE_URL" -Atc 'SELECT count(*) FROM orders')"
echo "orders stored: $stored of $((rounds * per_round)) published"
