#!/usr/bin/env bash
# Runs the benchmarks in a release build against the local servers and prints their figures.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/servers.sh
source .local/env
swift build -c release --product IntakeBenchmark
swift build -c release --product ComplaintsBenchmark
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
"$(swift build -c release --show-bin-path)/IntakeBenchmark" "$@"
"$(swift build -c release --show-bin-path)/ComplaintsBenchmark"
