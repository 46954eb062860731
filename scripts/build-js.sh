#!/usr/bin/env bash
# Build the ChatWidget front end: js/src -> trellis_jupyter/static/widget.{js,css}.
# Idempotent and quick when nothing changed: installs node modules only when package-lock.json is
# newer than the installed tree, and bundles only when a source is newer than the bundle.
# Usage: scripts/build-js.sh [--force] [--dev]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
js="$root/js"
static="$root/trellis_jupyter/static"
force=0
dev=""
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --dev) dev="--dev"; force=1 ;;
    *) echo "build-js.sh: unknown option $arg (use --force or --dev)" >&2; exit 2 ;;
  esac
done

command -v npm >/dev/null || { echo "build-js.sh: npm not found; install Node.js 20 or newer." >&2; exit 1; }

cd "$js"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "build-js.sh: installing node modules (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

stale=$force
for out in "$static/widget.js" "$static/widget.css"; do
  [[ -f "$out" ]] || stale=1
done
if [[ $stale == 0 ]]; then
  newest_input=$(find src build.mjs package-lock.json -type f -newer "$static/widget.js" -print -quit)
  [[ -z "$newest_input" ]] || stale=1
fi
if [[ $stale == 0 ]]; then
  echo "build-js.sh: trellis_jupyter/static is up to date"
  exit 0
fi
node build.mjs $dev
