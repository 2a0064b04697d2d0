#!/usr/bin/env bash
# Runs a command with a moto server (the AWS wire emulator) on a free loopback port:
#   tests/with-moto.sh VENV -- COMMAND...
# exports GEN3D_MOTO_URL for the command and stops the server afterwards, whatever
# the command's outcome. First it checks that moto answers the browser's CORS preflight
# (tests/moto-preflight.py): a moto that does not fails here, naming its version.
set -euo pipefail
venv=$1; shift
[ "${1:-}" = "--" ] && shift
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=${TMPDIR:-/tmp}/gen3d-moto-$port.log
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true; wait $moto_pid 2>/dev/null || true' EXIT
export GEN3D_MOTO_URL="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
	if "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('$GEN3D_MOTO_URL/moto-api/data.json', timeout=1)" 2>/dev/null; then
		break
	fi
	kill -0 $moto_pid 2>/dev/null || { echo "moto server failed to start:"; cat "$log"; exit 1; }
	sleep 0.2
done
echo "moto server on $GEN3D_MOTO_URL (log: $log)"
"$venv/bin/python" "$(dirname "$0")/moto-preflight.py" "$GEN3D_MOTO_URL"
"$@"
