# One-command setup: every target creates .venv and installs the pinned dependencies itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha1sum | cut -c1-12)
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install migrate run test test-fast test-browser bench lock clean browsers

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing pinned dependencies into $(VENV) ..."
	@$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	@$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/tradeline migrate --noinput

## run: the whole local shop on http://127.0.0.1:$(PORT) (web, worker, local Stripe, supplier simulator);
##      a restart continues where it stopped, FRESH=1 starts over (empty database, new simulated world)
run: migrate
	PORT=$(PORT) $(BIN)/tradeline run_demo --port $(PORT) $(if $(FRESH),--fresh)

## test: the whole suite (SQLite unless DATABASE_URL is set)
test: install browsers
	$(BIN)/pytest $(PYTEST_ARGS)

## test-browser: only the browser tests (buy through the widget, admin refund, payout); screenshots in test-output/
test-browser: install browsers
	$(BIN)/pytest -m browser tests/browser $(PYTEST_ARGS)

## browsers: Debian's chromium for the browser tests (no browser download)
browsers:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then echo "installing Debian chromium ..."; \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)) \
	    || echo "chromium could not be installed: browser tests will be skipped"; \
	  else echo "chromium missing (apt-get install chromium): browser tests will be skipped"; fi; }

## bench: performance figures (PostgreSQL at BENCH_DATABASE_URL, default local postgres; chromium for the widget section)
bench: install browsers
	$(BIN)/python -m bench

## lock: re-pin the dependency tree after editing pyproject.toml
lock:
	rm -rf /tmp/tlm-lock && $(PYTHON) -m venv /tmp/tlm-lock
	/tmp/tlm-lock/bin/pip install --quiet -e .[dev]
	(echo "# Pinned dependency tree. Regenerate with \`make lock\` after editing pyproject.toml."; \
	 /tmp/tlm-lock/bin/pip freeze --exclude-editable) > requirements.lock

clean:
	rm -rf $(VENV) var test-output
