#!/usr/bin/env bash
# make test-fresh: the README's two commands as a newcomer runs them. A fresh clone of
# HEAD, with every cache make keeps empty (cargo's target directory, the Python venvs,
# npm's cache, the tests' model directory: all under a new GEN3D_CACHE), runs `make run`,
# then `make test` one stage at a time, and prints each stage's wall time. What is
# installed system-wide (apt's packages, Chromium) and cargo's registry (downloaded crates)
# stay as they are; pip's cache is new and empty too.
#   scripts/test-fresh.sh [WORKDIR]   (KEEP=1 keeps WORKDIR; NO_RUN=1 leaves out `make
#                                      run`; each line of the log, WORKDIR/log, starts
#                                      with the seconds since start)
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/gen3d-fresh.XXXXXX")}
mkdir -p "$work"
git clone -q "$root" "$work/main"
ln -sfn "$(realpath "$root/../shared")" "$work/shared"
export GEN3D_CACHE=$work/cache npm_config_cache=$work/npm PIP_CACHE_DIR=$work/pip
unset CARGO_TARGET_DIR ORT_VENV MOTO_VENV TORCH_VENV ZIG_VENV TOOLS_VENV SAM3_TEST_MODELS
cd "$work/main"
echo "fresh clone of $(git rev-parse --short HEAD) in $work/main, caches in $GEN3D_CACHE" | tee "$work/log"
start=$SECONDS
times=()
stage() {
	local t0=$SECONDS
	echo "== make $*" | tee -a "$work/log"
	make "$@" 2>&1 | while IFS= read -r line; do printf '%5d %s\n' $((SECONDS - start)) "$line"; done | tee -a "$work/log"
	local rc=${PIPESTATUS[0]}
	times+=("$(printf '%-58s %4d:%02d' "make $*" $(((SECONDS - t0) / 60)) $(((SECONDS - t0) % 60)))")
	[ "$rc" = 0 ] || { echo "make $* failed (rc $rc); log: $work/log"; printf '%s\n' "${times[@]}"; exit "$rc"; }
}
[ -n "${NO_RUN:-}" ] || stage run
test_start=$SECONDS
# `make test`'s prerequisites one by one (in its order), then `make test` itself, which
# finds them done and runs the tests.
for target in deps ort moto web torch sam3-test-models smoke-deps test; do stage "$target"; done
test_total=$((SECONDS - test_start))
echo
echo "wall time per stage ($(nproc) cores, $(date -u +%F)):"
printf '%s\n' "${times[@]}"
printf '%-58s %4d:%02d\n' "make test (all the stages after make run)" $((test_total / 60)) $((test_total % 60))
du -sh "$GEN3D_CACHE" "$work/npm" 2>/dev/null || true
[ -n "${KEEP:-}" ] || rm -rf "$work"
