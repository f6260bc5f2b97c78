# errbound: two commands set everything up and run the main job / the tests from a fresh clone.
#   make demo   - create .venv if missing, install errbound with its extras, reproduce the paper (quick, CPU)
#   make test   - create .venv if missing, install errbound with its extras, run the test suite (no slow tests)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-slow test-thorough bench verify clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch==2.13.0 is pinned explicitly: on the project machines it resolves to a CPU wheel on disk,
# while an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	echo "torch==2.13.0" > $(VENV)/torch-pin.txt
	$(BIN)/python -m pip install --quiet -c $(VENV)/torch-pin.txt -e ".[train,test,neuralop]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/errbound repro --all --quick

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not gpu" -n 2 --dist loadfile

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m "slow"

test-thorough: $(STAMP)
	HYPOTHESIS_PROFILE=thorough $(BIN)/python -m pytest -q -m "not slow and not gpu"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_rounding.py

verify: $(STAMP)
	$(BIN)/errbound verify --quick

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
