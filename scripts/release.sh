#!/usr/bin/env bash
# Builds the release executables of Berth: for each platform one file, `berth-<version>-<rid>` (`.exe` on
# Windows), which is the whole of Berth (server and command line) with the .NET runtime inside: it runs on a
# machine without .NET (self-contained, single-file; SQLite's native library is inside too and is extracted at the
# first start, under $DOTNET_BUNDLE_EXTRACT_BASE_DIR, default ~/.net). Beside them, SHA256SUMS lists the SHA-256 of
# every berth-<version>-* file in the folder, for `sha256sum -c --ignore-missing SHA256SUMS`.
# Every platform is built from this machine (the .NET SDK cross-publishes self-contained single files); it needs
# the .NET SDK (global.json) and the NuGet feed for the platforms' runtime packs, the first time.
# The publish properties are in src/Berth.Cli/Berth.Cli.csproj (BerthReleaseRid); these builds restore and compile
# berth in artifacts/release-build/, apart from the everyday build, and reuse the libraries' everyday build. The
# first build of a platform takes about two minutes of CPU (most of it ReadyToRun compilation); docs/deploy.md
# ("Binaries") has the measurements.
#
# Usage: scripts/release.sh [--version X] [--rid RID]... [--output DIR]
#   --version  the version printed by `berth --version` and put in the file names (default: <Version> of
#              Directory.Build.props; another one rebuilds the libraries with it)
#   --rid      a platform to build for; repeat for several (default: linux-x64 linux-arm64 osx-x64 osx-arm64 win-x64)
#   --output   the folder for the executables and SHA256SUMS (default: artifacts/release/<version>)
# A platform that fails to build (say, its runtime pack cannot be restored) is named at the end and makes the
# script exit 1; the others are still built and listed in SHA256SUMS.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
all_rids="linux-x64 linux-arm64 osx-x64 osx-arm64 win-x64"

usage() { sed -n '/^# Usage:/,/^[^#]/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; }

version="" rids="" output=""
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version="${2:?--version needs a value}"; shift 2 ;;
    --rid) rids="$rids ${2:?--rid needs a value}"; shift 2 ;;
    --output) output="${2:?--output needs a value}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'." >&2; usage; exit 2 ;;
  esac
done

if [ -z "$version" ]; then
  version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props" | head -n 1)"
fi
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]]; then
  echo "error: '$version' is not a version such as 1.2.0 or 1.2.0-rc.1." >&2
  exit 2
fi
rids="${rids:-$all_rids}"
for rid in $rids; do
  if ! [[ "$rid" =~ ^[a-z0-9]+(-[a-z0-9]+)+$ ]]; then
    echo "error: '$rid' is not a runtime identifier such as linux-x64 (the default ones: $all_rids)." >&2
    exit 2
  fi
done
output="${output:-$root/artifacts/release/$version}"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET SDK is required (see global.json for the version)." >&2
  exit 2
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

mkdir -p "$output"
output="$(cd "$output" && pwd)"
staging="$(mktemp -d "${TMPDIR:-/tmp}/berth-release.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

failed=""
for rid in $rids; do
  exe=berth
  case "$rid" in win-*) exe=berth.exe ;; esac
  name="berth-$version-$rid${exe#berth}"
  echo "==> $name"
  started=$SECONDS
  # No build servers: nothing is left running after the script (it is also run by a test).
  if dotnet publish "$root/src/Berth.Cli/Berth.Cli.csproj" -c Release -nologo -clp:ErrorsOnly --disable-build-servers \
    "-p:BerthReleaseRid=$rid" "-p:Version=$version" -o "$staging/$rid"; then
    cp "$staging/$rid/$exe" "$output/$name.tmp"
    chmod 0755 "$output/$name.tmp"
    mv -f "$output/$name.tmp" "$output/$name"
    echo "    $(du -h "$output/$name" | cut -f1) $output/$name ($((SECONDS - started)) s)"
  else
    failed="$failed $rid"
  fi
done

# Every executable of this version in the folder (also those of an earlier run for other platforms).
(
  cd "$output"
  shopt -s nullglob
  files=()
  for file in "berth-$version-"*; do
    case "$file" in *.tmp) ;; *) files+=("$file") ;; esac
  done
  if [ ${#files[@]} -gt 0 ]; then
    if command -v sha256sum >/dev/null 2>&1; then sha256sum -- "${files[@]}"; else shasum -a 256 -- "${files[@]}"; fi >SHA256SUMS.tmp
    mv -f SHA256SUMS.tmp SHA256SUMS
    echo "==> $output/SHA256SUMS"
  fi
)

if [ -n "$failed" ]; then
  echo "error: could not build for:$failed (see the errors above)." >&2
  exit 1
fi
