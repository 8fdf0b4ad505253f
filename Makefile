# Keel — the commands a developer and CI run. `make help` lists them.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# QEMU guests booted at once by the e2e targets (each TCG guest keeps about one core busy).
E2E_JOBS ?= 2
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# Host packages: tests (tzdata, keymaps, mtools; postgresql for keel-server), the ISO build and the QEMU harness.
APT_PACKAGES := python3-venv libparted-dev pkg-config gcc tzdata xkb-data console-data \
	mtools dosfstools gdisk parted squashfs-tools xorriso debootstrap \
	grub-pc-bin grub-efi-amd64-bin grub-common qemu-system-x86 qemu-utils ovmf ipxe-qemu ipxe vde2 dnsmasq-base \
	openssl dpkg-dev e2fsprogs xfsprogs btrfs-progs cpio zstd xz-utils postgresql

.PHONY: help deps test unit lint demo demo-answers iso e2e e2e-smoke bench clean

help:
	@echo "make deps       install host packages (apt) and the Python venv (.venv); safe to repeat"
	@echo "make test       unit and integration tests (installs deps first)"
	@echo "make lint       ruff over the tree"
	@echo "make fuzz       the property tests (tests/unit/fuzz) with many more examples (KEEL_FUZZ=1; minutes)"
	@echo "make demo       validate the example answers, then install one into a VM and boot it (builds the ISO)"
	@echo "make demo-answers  only the first part: what each example answer would install"
	@echo "make iso        build build/keel-<version>.iso and build/pxe/"
	@echo "make e2e-smoke  the QEMU smoke scenarios (CI)"
	@echo "make e2e        the full QEMU end-to-end matrix"
	@echo "make bench      benchmarks; results in build/bench/"

deps: $(VENV)/.deps-stamp

$(VENV)/.deps-stamp: pyproject.toml Makefile
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "apt: installing $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q -e '.[test,live,server]'
	@touch $@

test: deps
	$(PY) -m pytest -q tests/unit tests/integration

unit: deps
	$(PY) -m pytest -q tests/unit

lint: deps
	$(PY) -m ruff check .

.PHONY: fuzz
fuzz: deps
	KEEL_FUZZ=1 $(PY) -m pytest -q -n auto tests/unit/fuzz

demo: demo-answers
	$(PY) -m keel_harness.demo

demo-answers: deps
	$(PY) -m answerfile.demo

iso: deps
	$(PY) iso-build/build.py $(ISO_ARGS)

e2e-smoke: deps
	$(PY) -m pytest -q -n $(E2E_JOBS) -m smoke tests/e2e

e2e: deps
	$(PY) -m pytest -q -n $(E2E_JOBS) tests/e2e

bench: deps
	@mkdir -p build/bench
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf build .pytest_cache .ruff_cache
