# memrestore developer commands. `make demo` and `make test` work on a fresh clone: they create
# .venv (reused when present and up to date with pyproject.toml) and install the package into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test venv clean browser app

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/memrestore demo --out runs/demo

# The browser tests (tests/app) drive Debian's Chromium. Where it is missing and this is root with
# apt-get (CI, a fresh container) it is installed; elsewhere those tests are skipped with a message.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser tests (apt-get)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; } || \
		echo "could not install chromium: the browser tests will be skipped"; \
	else echo "no chromium (apt-get install chromium): the browser tests will be skipped"; fi

app: $(STAMP)
	$(BIN)/memrestore app

test: $(STAMP) browser
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q

clean:
	rm -rf runs .pytest_cache
