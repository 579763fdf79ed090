#!/usr/bin/env bash
# The test suite: starts the servers on loopback (installing them when missing), builds, and runs
# every test against the real PostgreSQL and RabbitMQ. The system tests, which restart the
# servers and run the real executables, run last and alone.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/servers.sh
source .local/env
# The AsyncAPI document against the official schema and the broker definitions.
python3 -c 'import jsonschema, yaml' 2>/dev/null || pip install -q jsonschema pyyaml
python3 scripts/check-asyncapi.py
# Formatting: swift-nio's .swift-format (4 spaces, 120 columns), as the style guide says.
swift format lint --strict --recursive Package.swift Shared Services Tests Benchmarks
swift build --build-tests
export CRM_TEST_BIN_DIR="$(swift build --show-bin-path)"
# Pure logic first (no servers; seconds), then everything against the real servers, then the system tests.
swift test --skip-build --skip IntegrationTests --skip SystemTests
# One integration target at a time: each runs its suites in parallel, and two cores running every target's
# suites at once starve the timing of the tests that wait on a broker or a sweep (a minute's grace each).
failed=()
for target in Shared Intake Scoring Alerts Complaints Console; do
  swift test --skip-build --filter "^${target}IntegrationTests\." || failed+=("${target}IntegrationTests")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
swift test --skip-build --filter SystemTests
