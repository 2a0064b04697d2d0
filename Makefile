# Gen3D developer commands. `make run` and `make test` install what they need
# (Debian packages for Open3D) and keep cargo's build outside the clone.

SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/gen3d/target
# The shared target directory can hold a test binary built from another clone (cargo keys
# freshness on paths relative to the workspace): insta must read this clone's snapshots.
export INSTA_WORKSPACE_ROOT := $(CURDIR)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PHOTO ?= ../shared/fixtures/images/truck.jpg
POINT ?= 500,375
OUT ?= out/truck

ORT_VENV ?= $(HOME)/.cache/gen3d/ort-venv
MOTO_VENV ?= $(HOME)/.cache/gen3d/moto-venv
ZIG_VENV ?= $(HOME)/.cache/gen3d/zig-venv
TORCH_VENV ?= $(HOME)/.cache/gen3d/torch-venv
# tch 0.26 is built against libtorch 2.13.0 exactly (torch-sys checks the version).
TORCH_VERSION := 2.13.0
comma := ,
# Builds and runs with the torch venv's libtorch (the torch backend, feature `torch`).
TORCH_ENV = VIRTUAL_ENV=$(TORCH_VENV) PATH=$(TORCH_VENV)/bin:$$PATH LIBTORCH_USE_PYTORCH=1 \
	LD_LIBRARY_PATH=$$($(TORCH_VENV)/bin/python -c 'import torch, os; print(os.path.dirname(torch.__file__) + "/lib")' 2>/dev/null) \
	GEN3D_TORCH_PYTHON=$(TORCH_VENV)/bin/python

.PHONY: lint bench-viewer docs-screenshots fuzz fuzz-stable soak deps ort moto torch sam3-deps sam3-models sam3-test-models web-deps web run serve test smoke smoke-deps bench bench-aws bench-web bench-torch bench-sam3 bench-worker dist decoder

## Debian packages: Open3D (C++ library + headers), Eigen, pkg-config.
deps:
	@if ! pkg-config --exists Open3D 2>/dev/null || [ ! -f /usr/include/eigen3/Eigen/Core ]; then \
		echo "installing libopen3d-dev libeigen3-dev pkg-config (apt)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends libopen3d-dev libeigen3-dev pkg-config; \
	fi

# $(call venv,DIR,MODULES TO IMPORT,PIP PACKAGES): a Python virtual environment in DIR
# holding the packages, created (with python3-venv from apt if missing) unless the
# modules already import.
define venv
	@if ! $(1)/bin/python -c "import $(2)" 2>/dev/null; then \
		if ! python3 -c "import venv, ensurepip" 2>/dev/null; then \
			$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv; \
		fi; \
		echo "installing $(3) into $(1) (pip)"; \
		python3 -m venv $(1) && $(1)/bin/pip install -q --disable-pip-version-check $(3); \
	fi
endef

## A Python with onnxruntime (the engine of onnxruntime-web) for the decoder parity test.
ort:
	$(call venv,$(ORT_VENV),onnxruntime$(comma) numpy,onnxruntime numpy)

## moto server, the AWS wire emulator the AWS adapters are tested against.
moto:
	$(call venv,$(MOTO_VENV),moto$(comma) flask,'moto[server]>=5.2.2')

## libtorch for the torch backend: PyPI's torch $(TORCH_VERSION) (a CUDA build; its CUDA
## runtime wheels make it ~5 GB, and it runs on CPU where there is no GPU).
torch:
	$(call venv,$(TORCH_VENV),torch; assert torch.__version__.split('+')[0] == '$(TORCH_VERSION)',torch==$(TORCH_VERSION))

## transformers (pinned) with onnx and onnxruntime in the torch venv: the SAM 3 tracker's
## real architecture for `sam3-models`.
SAM3_PIP := transformers==5.24.0 onnx==1.23.2 onnxruntime==1.32.0 pillow==13.0.0
sam3-deps: torch
	@$(TORCH_VENV)/bin/python -c "import transformers, onnx, onnxruntime, PIL; assert transformers.__version__ == '5.24.0'" 2>/dev/null || { \
		echo "installing $(SAM3_PIP) into $(TORCH_VENV) (pip)"; \
		$(TORCH_VENV)/bin/pip install -q --disable-pip-version-check $(SAM3_PIP); }

## A model directory from the real SAM 3 tracker architecture (transformers), checked
## against transformers' forward: make sam3-models OUT=DIR [DEPTH=N] [CHECKPOINT=DIR].
## Random weights without CHECKPOINT; DEPTH keeps N of the 32 ViT layers.
SAM3_OUT = $(if $(filter command line environment,$(origin OUT)),$(OUT),models/sam3)
sam3-models: sam3-deps
	$(TORCH_VENV)/bin/python container/models/torch/prepare_sam3.py --out $(SAM3_OUT) \
		$(if $(DEPTH),--depth $(DEPTH)) $(if $(CHECKPOINT),--checkpoint $(CHECKPOINT))

## The tests' model directory: random weights, 2 ViT layers, kept outside the clone and
## rebuilt when prepare_sam3.py, split_decoder.py or the pinned packages change.
SAM3_TEST_MODELS := $(HOME)/.cache/gen3d/models/sam3-depth2
SAM3_STAMP := $(shell (cat container/models/torch/prepare_sam3.py container/models/torch/split_decoder.py; echo '$(SAM3_PIP)') | sha256sum | cut -c1-16)
sam3-test-models: sam3-deps
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

## rustfmt, and clippy on the product's code (libraries and binaries; the torch backend's
## in `make test`) with warnings as errors. The first thing `make test` does.
lint: deps
	cargo fmt --all --check
	cargo clippy --locked --workspace --lib --bins -- -D warnings

## Every test of the workspace, then the model crates again with the torch backend, and
## the product on the real SAM 3 architecture (random weights, 2 ViT layers).
test: deps lint ort moto web torch sam3-test-models smoke-deps
	cd web && node --test tests/unit/
	tests/with-moto.sh $(MOTO_VENV) -- env GEN3D_ORT_PYTHON=$(ORT_VENV)/bin/python GEN3D_SAM3_MODELS=$(SAM3_TEST_MODELS) cargo test --workspace --locked --no-fail-fast
	tests/smoke-local.sh $(CARGO_TARGET_DIR)/debug/gen3d
	$(TORCH_ENV) GEN3D_ORT_PYTHON=$(ORT_VENV)/bin/python GEN3D_SAM3_MODELS=$(SAM3_TEST_MODELS) \
		cargo test --locked -p gen3d-models -p gen3d-inference -p gen3d --features gen3d/torch $(TORCH_TESTS)
	$(TORCH_ENV) cargo clippy --locked -p gen3d-models -p gen3d-inference -p gen3d --features gen3d/torch --lib --bins -- -D warnings

# The torch pass: the model crates' tests, and gen3d's SAM 3 tests (one cargo invocation,
# so its dependencies build once with one feature set).
TORCH_TESTS := --lib --test torch_backend --test onnxruntime_parity --test embeddings_transport --test sam3_reference \
	--test torch_server --test sam3_server --test sam3

## The real SAM 3 decoder in Chromium against the built-in one, in one run: click → mask
## drawn with the split decoder, the one-graph fp32, fp16 and int8 (docs/benchmarks.md); then the full-size encoder's
## time per photo on CPU (a 32-layer model directory, built once, ~1.9 GB).
SAM3_FULL := $(HOME)/.cache/gen3d/models/sam3-full
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
	$(call venv,$(ZIG_VENV),ziglang,cargo-zigbuild ziglang)
	@if [ "$(ARCH)" = arm64 ] && ! command -v aarch64-linux-gnu-strip >/dev/null; then \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq binutils-aarch64-linux-gnu; \
	fi
	PATH=$(ZIG_VENV)/bin:$$PATH cargo xtask dist --arch $(ARCH)
