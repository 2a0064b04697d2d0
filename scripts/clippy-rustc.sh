#!/usr/bin/env bash
# RUSTC_WORKSPACE_WRAPPER for `make test`: cargo runs it, instead of rustc, for the
# workspace's own crates (`scripts/clippy-rustc.sh RUSTC ARGS...`). Each library and binary
# is compiled by clippy-driver, which is rustc with clippy's lints, with warnings as errors:
# the test build is also the lint, and the dependencies compile once (a separate
# `cargo clippy` checks every dependency again: 6 of the 49 minutes of a fresh `make test`
# before this, and 3 more for the torch feature's). Compiles of tests only (`--test`: unit
# tests, integration tests) and of examples go to plain rustc, as `make lint` (clippy --lib
# --bins) leaves them; a binary's own unit-test compile is linted, since nothing else
# compiles it.
set -euo pipefail
rustc=$1
shift
case " $* " in
*"/examples/"*) exec "$rustc" "$@" ;;
esac
case " $* " in
*" --test "*)
	case " $* " in
	*"/src/main.rs "* | *"/src/bin/"*) ;;
	*) exec "$rustc" "$@" ;;
	esac
	;;
esac
exec clippy-driver "$rustc" "$@" -D warnings
