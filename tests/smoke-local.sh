#!/usr/bin/env bash
# Runs scripts/smoke.sh against a fresh `gen3d serve` (local accounts, a temporary data
# directory, a free port): tests/smoke-local.sh PATH_TO_GEN3D. Stops the server after.
set -euo pipefail
gen3d=${1:?usage: tests/smoke-local.sh PATH_TO_GEN3D}
root=$(cd "$(dirname "$0")/.." && pwd)
data=$(mktemp -d)
log=$data/serve.log
"$gen3d" --data "$data/data" serve --port 0 --web-dir "$root/web/dist" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
url=
for _ in $(seq 1 300); do
	url=$(grep -o 'listening on http://[^ ]*' "$log" | head -1 | cut -d' ' -f3 || true)
	[ -n "$url" ] && break
	kill -0 $pid 2>/dev/null || { echo "gen3d serve exited:"; cat "$log"; exit 1; }
	sleep 0.2
done
[ -n "$url" ] || { echo "gen3d serve did not start:"; cat "$log"; exit 1; }
SMOKE_OUTBOX=$data/data/outbox "$root/scripts/smoke.sh" "$url"
