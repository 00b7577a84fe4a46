# The two commands (each works on a fresh clone with only python3 >= 3.11 and make):
#   make run    install into .venv and run the default scenario (dataset + figure in results/)
#   make test   install into .venv, run the test suite, then check that the sdist builds a
#               wheel that installs and runs outside the checkout (.ci/check-dist, ~2 min)
# Also: make validate (slow validation runs too), make bench, make clean.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
DECK   ?= inputs/llzo_polycrystal_2d.toml

.PHONY: install run test validate bench clean

install: $(STAMP)

$(STAMP): pyproject.toml setup.py $(wildcard ext/*.pyx ext/*.pxd)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip "setuptools>=77"
	$(BIN)/python -m pip install -e '.[test,mpi]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kmc run $(DECK) --force

test: $(STAMP)
	$(BIN)/python -m pytest
	bash .ci/check-dist $(BIN)/python

validate: $(STAMP)
	$(BIN)/kmc validate

bench: $(STAMP)
	$(BIN)/kmc bench

clean:
	rm -rf build $(VENV) kmc/*.so ext/*.c results .pytest_cache
