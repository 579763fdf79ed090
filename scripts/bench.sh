#!/usr/bin/env bash
# Runs every benchmark of the project in a release build against the local servers, then prints one
# markdown table of their figures (the lines each benchmark prints as `RESULT | what | figure | target |`).
# BENCHMARKS.md holds the table of a real run. Usage: scripts/bench.sh [--customers N] (scoring's synthetic base)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
customers=1000000
if [ "${1:-}" = "--customers" ]; then customers="$2"; fi
bash scripts/servers.sh
source .local/env
# libpq's GSSAPI probe aborts a benchmark at exit on some machines (k5_mutex_unlock); nothing here uses Kerberos.
export PGGSSENCMODE=disable
swift build -c release >/dev/null
bin="$(swift build -c release --show-bin-path)"

# lifetimes (PyPI) is the reference the scoring benchmark compares itself with.
venv="$root/.local/lifetimes-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import lifetimes" 2>/dev/null; then
  python3 -m venv "$venv" 2>/dev/null || { sudo apt-get install -y -qq python3-venv >/dev/null && python3 -m venv "$venv"; }
  "$venv/bin/pip" install -q lifetimes
fi

logs="$root/.local/bench"
mkdir -p "$logs"
run() {  # name, then the command
  local name="$1"
  shift
  echo "== $name" >&2
  "$@" 2>&1 | tee "$logs/$name.log" >&2
}
benchmarks=(IntakeBenchmark ScoringBenchmark AlertsBenchmark LifecycleBenchmark ComplaintsBenchmark ConsoleBenchmark)
for benchmark in "${benchmarks[@]}"; do
  [ -x "$bin/$benchmark" ] || continue
  case "$benchmark" in
    # lifetimes' Pareto/NBD takes many minutes on a million customers: it is measured on 100,000.
    ScoringBenchmark)
      run "$benchmark" "$bin/$benchmark" --customers "$customers" --lifetimes "$venv/bin/python" \
        --lifetimes-models bgnbd,mbgnbd
      run "$benchmark-100k" "$bin/$benchmark" --engine-only --customers 100000 --lifetimes "$venv/bin/python" ;;
    IntakeBenchmark) run "$benchmark" "$bin/$benchmark" --runs 3 --ack-delay 100 ;;
    ConsoleBenchmark) run "$benchmark" "$bin/$benchmark" --customers "$customers" ;;
    # Latency with and without outcome tracking, then the full rescoring's outcome update on the base.
    AlertsBenchmark)
      run "$benchmark" "$bin/$benchmark"
      run "$benchmark-outcomes" "$bin/$benchmark" outcomes "$customers" ;;
    *) run "$benchmark" "$bin/$benchmark" ;;
  esac
done

echo
echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); PostgreSQL $(psql "$CRM_TEST_DATABASE_URL" -Atc 'SHOW server_version' | cut -d' ' -f1), RabbitMQ $(rabbitmqctl -q version 2>/dev/null || echo '?'); $(swift --version 2>&1 | head -1)"
echo
echo "| benchmark | what | figure | target |"
echo "| --- | --- | --- | --- |"
for benchmark in "${benchmarks[@]}" ScoringBenchmark-100k AlertsBenchmark-outcomes; do
  [ -f "$logs/$benchmark.log" ] || continue
  name="${benchmark%-100k}"
  name="${name%-outcomes}"
  grep '^RESULT |' "$logs/$benchmark.log" | sed "s/^RESULT |/| ${name%Benchmark} |/"
done
