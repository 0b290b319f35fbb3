#!/usr/bin/env bash
# The README's test command (`npm test`): installs what is missing, builds, runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-servers.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build >/dev/null
exec npx vitest run "$@"
