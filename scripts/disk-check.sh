#!/usr/bin/env bash
# Before `make test` builds: is there room on the disk for cargo's test build?
#   scripts/disk-check.sh TARGET_DIR NEED_GB
# cargo never removes what an earlier build left in its target directory (another feature
# set, another profile, another Cargo.lock: each leaves a copy of the dependencies), so a
# cache kept between runs only grows. Stop 40's CI ran out of disk 15 minutes into the build
# (rustc: "No space left on device"). So: when the filesystem holding TARGET_DIR has less
# than NEED_GB free (a fresh test build's size, measured: docs/benchmarks.md), TARGET_DIR's
# debug profile, a cache, is removed and built again from nothing. When even that leaves
# too little, it stops here, naming the sizes, instead of 15 minutes later inside rustc.
set -euo pipefail
target=$1
need_gb=$2
debug=$target/debug
probe=$target
while [ ! -e "$probe" ]; do probe=$(dirname "$probe"); done
free_gb() { df -Pk "$probe" | awk 'NR == 2 { printf "%d", $4 / 1048576 }'; }
free=$(free_gb)
[ "$free" -ge "$need_gb" ] && exit 0
if [ -d "$debug" ]; then
	kept=$(du -sk "$debug" | awk '{ printf "%d", $1 / 1048576 }')
	echo "disk-check: $free GB free on $(df -P "$probe" | awk 'NR == 2 { print $6 }'), the test build needs about $need_gb GB:" \
		"removing cargo's cached debug build $debug ($kept GB; it is rebuilt from nothing)"
	rm -rf "$debug"
	free=$(free_gb)
fi
if [ "$free" -lt "$need_gb" ]; then
	echo "disk-check: only $free GB free on $(df -P "$probe" | awk 'NR == 2 { print $6 }') for $target," \
		"and make test's build needs about $need_gb GB: free some space, or point GEN3D_CACHE at a larger disk" >&2
	exit 1
fi
