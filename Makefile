# Everything a fresh machine needs, from scratch, in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: install reproduce test test-lowest lint bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e ".[tests]"
	touch $(STAMP)

install: $(STAMP)

## The main job on the built-in data.
reproduce: $(STAMP)
	$(BIN)/sksteel reproduce

## The whole test suite (doctests included).
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

## The lowest supported versions: every dependency at its lower bound in
## pyproject.toml (.ci/lowest_requirements.py), torch and torchvision as
## LOWEST_TORCH says (default: the newest), in .venv-lowest; then the common
## estimator checks and the model, model-file and sensor tests.
LOWEST := .venv-lowest
LOWEST_STAMP := $(LOWEST)/.installed
LOWEST_TORCH ?= torch torchvision
LOWEST_TESTS := tests/test_common.py tests/models tests/io tests/utils tests/test_sensors.py

$(LOWEST_STAMP): pyproject.toml .ci/lowest_requirements.py
	rm -rf $(LOWEST)
	$(PYTHON) -m venv $(LOWEST)
	$(PYTHON) .ci/lowest_requirements.py > $(LOWEST)/requirements.txt
	$(LOWEST)/bin/pip install --quiet $(LOWEST_TORCH) -r $(LOWEST)/requirements.txt \
		pytest pytest-xdist hypothesis
	$(LOWEST)/bin/pip install --quiet --no-deps -e .
	$(LOWEST)/bin/pip check
	touch $(LOWEST_STAMP)

test-lowest: $(LOWEST_STAMP)
	$(LOWEST)/bin/python -c "import sklearn, numpy, pandas, torch; print('lowest:', \
		'scikit-learn', sklearn.__version__, 'numpy', numpy.__version__, \
		'pandas', pandas.__version__, 'torch', torch.__version__)"
	$(LOWEST)/bin/python -m pytest -n 2 --dist loadfile -p no:cacheprovider $(LOWEST_TESTS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

$(DOCS_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[docs]"
	touch $(DOCS_STAMP)

## The documentation site in docs/_build/html; warnings are errors.
docs: $(DOCS_STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) $(LOWEST) build *.egg-info .pytest_cache
