# ResNet à la main: dull, obvious targets. CI runs `make test` (see README).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help venv data assign lint format test test-fast demo check grade report autograder-zip classroom50 experiment experiment-long solution benchmarks calibrate clean

help:
	@echo "make demo            grade the bundled example submissions and write the report"
	@echo "make test            lint, then the whole test suite (creates .venv and gets the data first)"
	@echo "make test-fast       the test suite without the slow end-to-end runs"
	@echo "make lint            ruff check and ruff format --check"
	@echo "make format          ruff format and the safe ruff fixes"
	@echo "make assign          regenerate student_template/, solutions/ and autograder tests from assignment/"
	@echo "make check NB=path   public checks of one notebook (as a student would)"
	@echo "make grade SUBS=dir  grade every submission under dir into out/"
	@echo "make autograder-zip  build the Gradescope / otter autograder zip"
	@echo "make classroom50     write the Classroom 50 autograder folder (build/classroom50/)"
	@echo "make solution        re-execute the solution notebook (outputs committed)"
	@echo "make experiment      ResNet vs CNN comparison and depth study (solutions/results/)"
	@echo "make experiment-long the longer budget (target 0.90, about 30 min on 2 cores)"
	@echo "make benchmarks      timing figures recorded in docs/benchmarks.md"
	@echo "make calibrate       calibrate the accuracy threshold (10 seeds per architecture)"

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

data: $(STAMP)
	bash scripts/ensure_data.sh $(PY)

assign: $(STAMP)
	$(PY) -m autograder.assign
	$(PY) scripts/make_examples.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint data
	$(PY) -m pytest -q -n 3 --dist loadfile tests

test-fast: $(STAMP) data
	$(PY) -m pytest -q -n 3 --dist loadfile -m "not slow" tests

demo: $(STAMP) data
	$(PY) -m autograder demo

check: $(STAMP)
	$(PY) -m autograder check $(NB)

grade: $(STAMP) data
	$(PY) -m autograder grade $(SUBS) --out out

autograder-zip: $(STAMP)
	$(PY) -m autograder.delivery zip

classroom50: $(STAMP)
	$(PY) -m autograder.delivery classroom50

solution: $(STAMP) data
	$(PY) -m autograder.assign --execute-solution

experiment: $(STAMP) data
	$(PY) -m solutions.experiment

experiment-long: $(STAMP) data
	$(PY) -m solutions.experiment long

benchmarks: $(STAMP) data
	$(PY) scripts/bench_sandbox.py
	$(PY) scripts/bench_engine.py --write-docs
	$(PY) scripts/bench_delivery.py
	$(PY) scripts/bench_report.py

calibrate: $(STAMP) data
	$(PY) scripts/calibrate_accuracy.py --seeds 10

clean:
	rm -rf build out .pytest_cache
