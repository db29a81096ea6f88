# The two commands of the README: `make demo` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# Keep Ray on loopback, away from stray clusters, and torch on one thread (NOTES.md).
export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER := 0
export RAY_USAGE_STATS_ENABLED := 0
export RAY_ENABLE_AUTO_CONNECT := 0
export RAY_AUTH_MODE := disabled
export OMP_NUM_THREADS := 1
unexport RAY_ADDRESS

.PHONY: demo test lint system-deps browser-deps player clean

system-deps:
	@scripts/install-system-deps.sh

# Chromium from the system's packages for the web monitor's browser tests (Playwright drives
# it by path: no browser download).
browser-deps:
	@scripts/install-system-deps.sh --browser

# The web page's live-preview player (hls.js), a pinned npm tarball checked against its
# sha512 (scripts/fetch_player.py). Offline, the install goes on: the service and the page
# work without it, and the page says its live preview needs it.
player:
	@$(PYTHON) scripts/fetch_player.py

$(VENV)/.installed: pyproject.toml | system-deps
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e .
	@$(PYTHON) scripts/fetch_player.py || echo "(no live preview in the web page until it is fetched)"
	@touch $@

# Tests run the real SDXL and Bark code paths on tiny models: torch on the CPU. The pin keeps
# pip on the CPU build provided on this machine instead of a CUDA build of several GB.
TORCH ?= torch==2.13.0

$(VENV)/.test-installed: $(VENV)/.installed
	$(PIP) install '$(TORCH)'
	$(PIP) install -e '.[test,models,gemini,kokoro]'
	$(PIP) install --no-deps 'kokoro==0.9.4'
	@touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/vidgen render examples/lighthouse.md -o out/lighthouse

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check vidgen_ray tests benchmarks
	$(VENV)/bin/lint-imports
	@# pytest imports test files by basename: two files of one name break collection.
	@dups=$$(find tests -name 'test_*.py' -printf '%f\n' | sort | uniq -d); \
	  test -z "$$dups" || { echo "test files share a name (rename one): $$dups"; exit 1; }

test: lint browser-deps player
	$(VENV)/bin/pytest

clean:
	rm -rf out .pytest_cache
