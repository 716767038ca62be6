# Two commands do all set-up on a fresh machine:
#   make demo   - virtual environment, install, then `seawatch demo`
#   make test   - the same set-up plus Mosquitto, PostgreSQL and Chromium, then lint, types and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/seawatch demo

lint: $(STAMP)
	$(BIN)/ruff check seawatch tests benchmarks scripts
	$(BIN)/ruff format --check seawatch tests benchmarks scripts
	$(BIN)/mypy

test: $(STAMP)
	bash scripts/ensure-mosquitto.sh
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-docker-compose.sh
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest -q

bench: $(STAMP)
	bash scripts/ensure-mosquitto.sh
	$(BIN)/python benchmarks/bench_decode.py
	$(BIN)/python benchmarks/bench_mqtt.py
	$(BIN)/python benchmarks/bench_journal.py
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/python benchmarks/bench_replay.py
	$(BIN)/python benchmarks/bench_shore.py
	$(BIN)/python benchmarks/bench_alert_latency.py
	$(BIN)/python benchmarks/bench_big_replay.py
	$(BIN)/python benchmarks/bench_snapshot.py
	bash scripts/ensure-postgres.sh
	$(BIN)/python benchmarks/bench_outage.py
	$(BIN)/python benchmarks/bench_failover.py
	bash scripts/ensure-chromium.sh
	$(BIN)/python benchmarks/bench_map.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
