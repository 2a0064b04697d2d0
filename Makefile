# Gen3D developer commands. `make run` and `make test` install what they need
# (Debian packages for Open3D) and keep cargo's build outside the clone.

SHELL := /bin/bash
# Everything make keeps between runs, outside the clone: cargo's target directory, the Python
# venvs, the tests' model directory (`make test-fresh` points it at an empty one).
GEN3D_CACHE ?= $(HOME)/.cache/gen3d
export CARGO_TARGET_DIR ?= $(GEN3D_CACHE)/target
# The shared target directory can hold a test binary built from another clone (cargo keys
# freshness on paths relative to the workspace): insta must read this clone's snapshots.
export INSTA_WORKSPACE_ROOT := $(CURDIR)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PHOTO ?= ../shared/fixtures/images/truck.jpg
POINT ?= 500,375
OUT ?= out/truck

ORT_VENV ?= $(GEN3D_CACHE)/ort-venv
MOTO_VENV ?= $(GEN3D_CACHE)/moto-venv
ZIG_VENV ?= $(GEN3D_CACHE)/zig-venv
TORCH_VENV ?= $(GEN3D_CACHE)/torch-venv
TOOLS_VENV ?= $(GEN3D_CACHE)/tools-venv
# Builds and runs with the torch venv's libtorch (the torch backend, feature `torch`).
TORCH_ENV = VIRTUAL_ENV=$(TORCH_VENV) PATH=$(TORCH_VENV)/bin:$$PATH LIBTORCH_USE_PYTORCH=1 \
	LD_LIBRARY_PATH=$$($(TORCH_VENV)/bin/python -c 'import torch, os; print(os.path.dirname(torch.__file__) + "/lib")' 2>/dev/null) \
	GEN3D_TORCH_PYTHON=$(TORCH_VENV)/bin/python

.PHONY: lint bench-wasm-simd bench-viewer docs-screenshots fuzz fuzz-stable soak deps ort moto torch locks test-fresh sam3-models sam3-test-models web-deps web run serve test smoke smoke-deps bench bench-aws bench-web bench-torch bench-sam3 bench-worker dist decoder

## Debian packages: Open3D (C++ library + headers), Eigen, pkg-config. The Open3D shim is
## written for Open3D 0.16 (Debian bookworm's libopen3d-dev 0.16.1): another version stops here.
OPEN3D_VERSION := 0.16
deps:
	@if ! pkg-config --exists Open3D 2>/dev/null || [ ! -f /usr/include/eigen3/Eigen/Core ]; then \
		echo "installing libopen3d-dev libeigen3-dev pkg-config (apt)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends libopen3d-dev libeigen3-dev pkg-config; \
	fi
	@v=$$(pkg-config --modversion Open3D); case "$$v" in $(OPEN3D_VERSION)|$(OPEN3D_VERSION).*) ;; \
		*) echo "Open3D $$v was found (pkg-config --modversion Open3D), but Gen3D's shim (meshing/bridge) is written for $(OPEN3D_VERSION).x:" \
			"install Debian bookworm's libopen3d-dev 0.16.1, or port meshing/bridge/src/shim.cc and raise OPEN3D_VERSION"; exit 1;; esac

# Every Python environment is built from a hashed lock in requirements/ (NAME.in says what
# and why; NAME.txt, compiled by `make locks`, pins every package with its hashes), rebuilt
# when the lock changes, and checked against it on every use (scripts/venv.sh).
VENV = scripts/venv.sh
## A Python with onnxruntime (the engine of onnxruntime-web) for the decoder parity test.
ort:
	@$(VENV) $(ORT_VENV) requirements/ort.txt

## moto server, the AWS wire emulator the AWS adapters are tested against.
moto:
	@$(VENV) $(MOTO_VENV) requirements/moto.txt

## libtorch for the torch backend: PyPI's torch 2.13.0 (tch 0.26 is built against exactly
## that; a CUDA build: its CUDA runtime wheels make it ~5 GB, and it runs on CPU where there
## is no GPU), with transformers, onnx and onnxruntime: the SAM 3 tracker's real
## architecture for `sam3-models`.
torch:
	@$(VENV) $(TORCH_VENV) requirements/torch.txt

## The locks, recompiled from requirements/*.in with uv (itself from requirements/tools.txt),
## for every platform and Python >= 3.11: `make locks` keeps today's pins where the .in
## allows them, `make locks UPGRADE=1` takes the newest. Then `make test`.
locks:
	@$(VENV) $(TOOLS_VENV) requirements/tools.txt
	cd requirements && for f in *.in; do \
		$(TOOLS_VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
			--no-header --annotation-style line $(if $(UPGRADE),--upgrade) -o $${f%.in}.txt $$f || exit 1; done

## A model directory from the real SAM 3 tracker architecture (transformers), checked
## against transformers' forward: make sam3-models OUT=DIR [DEPTH=N] [CHECKPOINT=DIR].
## Random weights without CHECKPOINT; DEPTH keeps N of the 32 ViT layers.
SAM3_OUT = $(if $(filter command line environment,$(origin OUT)),$(OUT),models/sam3)
sam3-models: torch
	$(TORCH_VENV)/bin/python container/models/torch/prepare_sam3.py --out $(SAM3_OUT) \
		$(if $(DEPTH),--depth $(DEPTH)) $(if $(CHECKPOINT),--checkpoint $(CHECKPOINT))

## The tests' model directory: random weights, 2 ViT layers, kept outside the clone and
## rebuilt when prepare_sam3.py, split_decoder.py or the torch lock change.
SAM3_TEST_MODELS ?= $(GEN3D_CACHE)/models/sam3-depth2
SAM3_STAMP := $(shell cat container/models/torch/prepare_sam3.py container/models/torch/split_decoder.py requirements/torch.txt | sha256sum | cut -c1-16)
sam3-test-models: torch
	@if [ "$$(cat $(SAM3_TEST_MODELS)/.stamp 2>/dev/null)" != "$(SAM3_STAMP)" ]; then \
		$(TORCH_VENV)/bin/python container/models/torch/prepare_sam3.py --out $(SAM3_TEST_MODELS) --depth 2 && \
		echo "$(SAM3_STAMP)" > $(SAM3_TEST_MODELS)/.stamp; \
	fi

## Node.js, the web app's npm packages (from package-lock.json) and Debian's Chromium
## for the browser tests.
web-deps:
	@pkgs=""; \
	command -v npm >/dev/null || pkgs="nodejs npm"; \
	[ -x /usr/bin/chromium ] || pkgs="$$pkgs chromium fonts-dejavu-core"; \
	if [ -n "$$pkgs" ]; then \
		echo "installing$$pkgs (apt)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$pkgs; \
	fi
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || \
		{ echo "the web app needs Node.js 20 or newer (found $$(node --version)); install it from nodejs.org or NodeSource"; exit 1; }
	@if ! cmp -s web/package-lock.json web/node_modules/.gen3d-lock; then \
		cd web && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.gen3d-lock; \
	fi

## The web app (web/dist), served by `gen3d serve`.
web: web-deps
	cd web && npm run --silent build

## The user guide's screenshots (docs/img/web-*.jpg), retaken by the browser tests.
docs-screenshots: deps web
	GEN3D_UPDATE_DOCS=1 cargo test --locked -p gen3d --test browser

## One photo to a 3D model: writes $(OUT)/mask.png, splat.ply, mesh.glb.
run: deps
	cargo run --release --locked -p gen3d -- --data $(CURDIR)/.gen3d-data run $(PHOTO) --point $(POINT) --out $(OUT)

## The local stack: HTTP API + workers on http://127.0.0.1:8080.
serve: deps web
	cargo run --release --locked -p gen3d -- --data $(CURDIR)/.gen3d-data serve --port 8080

## rustfmt, and clippy on the product's code (libraries and binaries) with warnings as
## errors, without building it: quick feedback while editing. `make test` lints as it
## builds (scripts/clippy-rustc.sh), the torch backend's code included.
lint: deps
	cargo fmt --all --check
	cargo clippy --locked --workspace --lib --bins -- -D warnings

## Every test of the workspace, the torch backend's included, in one cargo invocation (so
## the dependencies build once, with one feature set), each workspace library and binary
## compiled by clippy with warnings as errors (scripts/clippy-rustc.sh: the build is the
## lint), the product on the real SAM 3 architecture among them (GEN3D_SAM3_MODELS: random
## weights, 2 ViT layers); then the smoke test.
## The test build's size (GB) on a brand-new machine, measured (docs/benchmarks.md): with less
## free than that, scripts/disk-check.sh removes the cached debug build first, or stops.
TEST_BUILD_GB ?= 10
test: deps ort moto web torch sam3-test-models smoke-deps
	cargo fmt --all --check
	cd web && node --test tests/unit/
	scripts/disk-check.sh $(CARGO_TARGET_DIR) $(TEST_BUILD_GB)
	$(TORCH_ENV) tests/with-moto.sh $(MOTO_VENV) -- env RUSTC_WORKSPACE_WRAPPER=$(CURDIR)/scripts/clippy-rustc.sh \
		GEN3D_ORT_PYTHON=$(ORT_VENV)/bin/python GEN3D_SAM3_MODELS=$(SAM3_TEST_MODELS) \
		cargo test --workspace --locked --no-fail-fast --features gen3d/torch
	$(TORCH_ENV) tests/smoke-local.sh $(CARGO_TARGET_DIR)/debug/gen3d

## The real SAM 3 decoder in Chromium against the built-in one, in one run: click → mask
## drawn with the split decoder, the one-graph fp32, fp16 and int8 (docs/benchmarks.md); then the full-size encoder's
## time per photo on CPU (a 32-layer model directory, built once, ~1.9 GB).
SAM3_FULL := $(GEN3D_CACHE)/models/sam3-full
bench-sam3: deps web torch sam3-test-models
	$(TORCH_ENV) cargo build --locked -p gen3d --features torch
	cd web && $(TORCH_ENV) node tests/bench-decode.mjs --gen3d $(CARGO_TARGET_DIR)/debug/gen3d --clicks 20
	cd web && for v in split whole fp16 int8; do \
		$(TORCH_ENV) node tests/bench-decode.mjs --gen3d $(CARGO_TARGET_DIR)/debug/gen3d --clicks 20 \
			--models $(SAM3_TEST_MODELS) $$([ $$v = split ] || echo --variant $$v) || exit 1; done
	@[ -f $(SAM3_FULL)/manifest.json ] || $(TORCH_VENV)/bin/python container/models/torch/prepare_sam3.py --out $(SAM3_FULL) --variants ""
	$(TORCH_VENV)/bin/python -c "import json; print(json.dumps(json.load(open('$(SAM3_FULL)/manifest.json'))['source'], indent=1))"

## Every fuzz target (fuzz/fuzz_targets) under libFuzzer for FUZZ_SECONDS each; needs a
## nightly toolchain (rustup toolchain install nightly) and cargo-fuzz (installed here).
## Crashes land in fuzz/artifacts/<target>/: add each to fuzz/corpus/<target>/.
FUZZ_SECONDS ?= 60
fuzz: deps
	@rustup run nightly rustc --version >/dev/null 2>&1 || { echo "make fuzz needs a nightly toolchain: rustup toolchain install nightly"; exit 1; }
	@command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
	cd fuzz && for t in $$(ls fuzz_targets | sed 's/\.rs$$//'); do \
		cargo +nightly fuzz run $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 || exit 1; done

## The same targets on stable, longer than CI's bounded run (GEN3D_FUZZ_RUNS inputs each).
fuzz-stable: deps
	GEN3D_FUZZ_RUNS=200000 GEN3D_FUZZ_SECONDS=$(FUZZ_SECONDS) cargo test --locked -p gen3d-fuzz-targets --test bounded -- --nocapture

## The long soak: 500 objects on the embedded stack with 20% of all port calls failing
## and 3 runner kills, and 100 objects on moto (CI runs 60 and 10 in `make test`). The
## figures land in $(CARGO_TARGET_DIR)/soak/ (docs/reliability.md quotes them).
SOAK_OBJECTS ?= 500
SOAK_AWS_OBJECTS ?= 100
soak: deps moto
	mkdir -p $(CARGO_TARGET_DIR)/soak
	tests/with-moto.sh $(MOTO_VENV) -- env GEN3D_SOAK_OBJECTS=$(SOAK_OBJECTS) GEN3D_SOAK_AWS_OBJECTS=$(SOAK_AWS_OBJECTS) \
		GEN3D_SOAK_REPORT=$(CARGO_TARGET_DIR)/soak/local.txt GEN3D_SOAK_AWS_REPORT=$(CARGO_TARGET_DIR)/soak/moto.txt \
		cargo test --locked --workspace --test soak -- --nocapture --test-threads 1
	cat $(CARGO_TARGET_DIR)/soak/local.txt $(CARGO_TARGET_DIR)/soak/moto.txt

## curl and jq for scripts/smoke.sh.
smoke-deps:
	@command -v curl >/dev/null && command -v jq >/dev/null || { \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends curl jq; }

## The smoke test against a running Gen3D: make smoke URL=https://gen3d.example
smoke: smoke-deps
	scripts/smoke.sh $(URL)

## Benchmarks (results go into docs/benchmarks.md by hand, with the machine).
## The SAM 3D Objects worker's overhead per request, with the stand-in module.
bench-worker: ort
	GEN3D_ORT_PYTHON=$(ORT_VENV)/bin/python cargo bench --locked -p gen3d-models --bench python_worker

bench: deps
	cargo bench --locked -p gen3d --bench end_to_end

## Per-click decode latency in headless Chromium and the embeddings' download size.
bench-web: deps web
	cargo build --release --locked -p gen3d
	cd web && node tests/bench-decode.mjs --gen3d $(CARGO_TARGET_DIR)/release/gen3d

## The machine's WebAssembly SIMD rate (issue 32): a register-blocked f32 product in plain
## SIMD128 and with relaxed SIMD's fused multiply-add (Debian's clang-16; clang-14 lacks it),
## timed in Node.js (docs/benchmarks.md).
WASM_CC := clang-16 --target=wasm32 -O3 -msimd128 -nostdlib -fuse-ld=/usr/bin/wasm-ld-16 -Wl,--no-entry -Wl,--initial-memory=67108864
bench-wasm-simd:
	@command -v clang-16 >/dev/null && [ -x /usr/bin/wasm-ld-16 ] || { echo "installing clang-16 lld-16 (apt)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends clang-16 lld-16; }
	mkdir -p $(GEN3D_CACHE)/wasm-simd
	$(WASM_CC) -o $(GEN3D_CACHE)/wasm-simd/simd128.wasm web/kernels/bench-gemm.c
	$(WASM_CC) -mrelaxed-simd -DRELAXED -o $(GEN3D_CACHE)/wasm-simd/relaxed-fma.wasm web/kernels/bench-gemm.c
	cd web && node --experimental-wasm-relaxed-simd tests/bench-gemm.mjs $(GEN3D_CACHE)/wasm-simd/simd128.wasm $(GEN3D_CACHE)/wasm-simd/relaxed-fma.wasm

## The 3D viewer: frame time for 100k splats (Gaussian against points) and click → mask with
## the viewer open against closed, in headless Chromium (docs/benchmarks.md).
bench-viewer: deps web
	cargo build --locked -p gen3d
	cd web && node tests/bench-viewer.mjs --gen3d $(CARGO_TARGET_DIR)/debug/gen3d

## TorchScript from Rust against the same module from Python (CUDA where present).
bench-torch: torch
	$(TORCH_ENV) cargo bench --locked -p gen3d-models --features torch --bench torch_vs_python

## The built-in click decoder as an ONNX file.
decoder: deps
	cargo run --release --locked -p gen3d -- export-decoder --out decoder.onnx

## The AWS profile on moto: SQS hop overhead and 200 objects through the pipeline.
bench-aws: deps moto
	tests/with-moto.sh $(MOTO_VENV) -- cargo bench --locked --profile dev -p gen3d-tests --bench moto_pipeline

## The Lambda bundles Pulumi.yaml deploys (dist/lambda/<service>/bootstrap); ARCH=x86_64 for x86_64.
ARCH ?= arm64
dist:
	@$(VENV) $(ZIG_VENV) requirements/zig.txt
	@if [ "$(ARCH)" = arm64 ] && ! command -v aarch64-linux-gnu-strip >/dev/null; then \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq binutils-aarch64-linux-gnu; \
	fi
	PATH=$(ZIG_VENV)/bin:$$PATH cargo xtask dist --arch $(ARCH)

## `make run` and `make test` in a fresh clone of HEAD with empty caches (not in CI: ~45 min
## on 2 cores, ~20 GB of disk while it runs), each stage's wall time printed at the end.
test-fresh:
	scripts/test-fresh.sh
