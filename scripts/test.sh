#!/usr/bin/env bash
# Runs Berth's whole test suite: builds the solution, runs every test project, and ends with the
# line "N passed, N failed" (", N skipped" when some were skipped). Installs or starts whatever the
# tests need; today that is only the .NET SDK (pinned by global.json).
#
# Usage: scripts/test.sh [extra dotnet test arguments, e.g. --filter-class '*UploadTests']
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET SDK is required (see global.json for the version); install it from your package manager or Microsoft's installer." >&2
  exit 2
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

echo "==> building"
dotnet build Berth.slnx -c Release -nologo -clp:ErrorsOnly

echo "==> testing"
status=0
dotnet test --solution Berth.slnx -c Release --no-build --results-directory "$results" --report-trx "$@" || status=$?

# Sum the counters of every TRX report. A test module that crashed writes none: the exit status
# above then makes the run fail even if every report that exists is green.
read -r passed failed skipped < <(
  cat "$results"/*.trx 2>/dev/null | tr '<' '\n' | awk '
    /^Counters / {
      for (i = 1; i <= NF; i++) {
        split($i, kv, "=");
        gsub(/[^0-9]/, "", kv[2]);
        if (kv[1] == "passed") p += kv[2];
        if (kv[1] == "failed" || kv[1] == "error" || kv[1] == "timeout" || kv[1] == "aborted") f += kv[2];
        if (kv[1] == "notExecuted") s += kv[2];
      }
    }
    END { printf "%d %d %d\n", p, f, s }')

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "error: dotnet test exited with status $status although no test reported a failure (a test host crashed?)." >&2
  failed=1
fi

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
