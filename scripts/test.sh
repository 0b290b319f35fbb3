#!/usr/bin/env bash
# The README's test command (`npm test`): installs what is missing, builds, runs the whole suite (or the
# files given) against the servers CIMOPS_SERVERS chooses (debian12, trixie, unstable; default debian12).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-servers.sh "${CIMOPS_SERVERS:-debian12}"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build >/dev/null
exec npx vitest run "$@"
