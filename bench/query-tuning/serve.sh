#!/usr/bin/env bash
# Starts Holdfast in the background for the query-tuning measurements and
# prints its PID; stop it with `kill <PID>` (SIGTERM drains and exits 0).
#
#   bench/query-tuning/serve.sh postgres://postgres@127.0.0.1:5432/hf_tuning 5391
#
# The cache is off so every request reaches the database, the rate limiter is
# off so a load run measures queries rather than 429s, the cursor secret is
# fixed so bench scripts can mint cursors, and statements over 50 ms are
# logged and explained. Runs node directly (not `npm start`) so that the PID
# printed is the server's own. Log: /tmp/hf-query-tuning-<port>.log
set -euo pipefail
url="${1:?database url}"
port="${2:?port}"
cd "$(dirname "$0")/../.."
log="/tmp/hf-query-tuning-${port}.log"
DATABASE_URL="$url" PORT="$port" HOST=127.0.0.1 CACHE_ENABLED=false RATE_LIMIT_ENABLED=false \
  ADMIN_TOKEN="${ADMIN_TOKEN:-qt-admin-token-0123}" CURSOR_SECRET="${CURSOR_SECRET:-qt-cursor-secret}" SLOW_QUERY_MS=50 SEED_DEMO=false \
  node --import tsx src/main.ts >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  if curl -fs "http://127.0.0.1:${port}/api/ready" >/dev/null 2>&1; then echo "$pid"; exit 0; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log" >&2; exit 1; fi
  sleep 0.2
done
echo "holdfast on port ${port} did not become ready; see ${log}" >&2
kill "$pid"
exit 1
