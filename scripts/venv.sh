#!/usr/bin/env bash
# A Python virtual environment that holds exactly what a hashed lock file names:
#   scripts/venv.sh VENV requirements/NAME.txt
# Builds VENV from the lock (pip --require-hashes --no-deps, wheels only) when it is
# missing, or when the lock or python3 changed since it was built (a stamp in VENV says
# which), so an old venv never stands in for the lock. Then checks that the installed set
# equals the lock (scripts/venv_check.py) and fails naming each difference.
set -euo pipefail
venv=$1
lock=$2
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$lock" ] || { echo "venv.sh: no lock file $lock" >&2; exit 1; }
sudo=$([ "$(id -u)" = 0 ] || echo sudo)
stamp="$(sha256sum "$lock" | cut -c1-64) python $(python3 -c 'import platform; print(platform.python_version())')"
if [ "$(cat "$venv/.gen3d-lock" 2>/dev/null)" != "$stamp" ]; then
	if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
		echo "installing python3-venv (apt)"
		$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv
	fi
	[ -e "$venv" ] && echo "$venv was built from another lock (or python): rebuilding it from $lock"
	echo "installing $lock into $venv (pip, hashes checked)"
	rm -rf "$venv"
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q --disable-pip-version-check --no-input --require-hashes --no-deps --only-binary :all: -r "$lock"
	echo "$stamp" >"$venv/.gen3d-lock"
fi
"$venv/bin/python" "$here/venv_check.py" "$lock"
