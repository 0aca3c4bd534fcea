# Deep Learning Architectures, interactive: the course's task runner.
#   make lab       open the course in JupyterLab (creates .venv first if it is missing)
#   make test      run every test: lint, unit tests, notebook pairs, notebooks in smoke mode
#   make execute   re-run every notebook in full mode and store its outputs in the .ipynb
#   make sync      regenerate each .ipynb's cells from its .py (after editing a .py)
#   make student   write student editions (solutions stubbed, checks kept, rubrics left out) to student/
#   make teacher   write teacher editions (solutions and their expected outputs shown, grading rubrics) to teacher/
#   make benchmark measure every chapter (smoke + full runs, data path, browser sliders) and update the README
#   make checkpoints  retrain the course checkpoints (GAN, VAE, LSTM models, the evaluation classifier)
#   make browser-widgets7  the browser tests against an ipywidgets 7.8 frontend (JupyterLab 4), in build/w7
#   make colab     the Colab leg: Colab's package set (Python 3.13, ipywidgets 7.7) in build/colab/venv, the course
#                  installed as the Colab setup cell does, every notebook in smoke mode, the widget tests
#   make site      the course website in build/site (Sphinx + MyST-NB, every script vendored; full-mode run)
#   make site-smoke  the same website from smoke runs (quick; its browser test is tests/site)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
NOTEBOOKS := $(wildcard notebooks/[0-9]*.py)

.PHONY: env lab test colab browser-widgets7 lint unit notebooks sync execute execute-smoke student teacher benchmark checkpoints clean

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev]"
	touch $@

lab: env
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG)

test: env
	$(VENV)/bin/ruff check .
	COURSE_SMOKE=1 COURSE_HEADLESS=1 MPLBACKEND=agg $(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env -p no:cacheprovider

# Needs no .venv: scripts/colab_check.py uses only the standard library and builds its own environment.
colab:
	$(PYTHON) scripts/colab_check.py

# Widgets under the ipywidgets 7 protocol (Colab's major version) in a real JupyterLab + Chromium, once.
browser-widgets7:
	test -x build/w7/bin/python || $(PYTHON) -m venv build/w7
	build/w7/bin/python -m pip install -q -e ".[dev]" "ipywidgets>=7.8,<8"
	COURSE_SMOKE=1 COURSE_HEADLESS=1 MPLBACKEND=agg build/w7/bin/python -m pytest tests/test_browser.py -p no:cacheprovider

sync: env
	$(VENV)/bin/jupytext --sync $(NOTEBOOKS)

execute: env
	$(PY) scripts/execute_notebooks.py $(NOTEBOOKS)

execute-smoke: env
	$(PY) scripts/execute_notebooks.py --smoke --output build/smoke $(NOTEBOOKS)

student: env
	$(PY) scripts/make_student_editions.py --output student

teacher: env
	$(PY) scripts/make_teacher_editions.py --output teacher

benchmark: env
	$(PY) benchmarks/run.py

checkpoints: env
	$(PY) scripts/make_checkpoints.py all

clean:
	rm -rf build .pytest_cache

# The course website (site/, issue 19: not yet part of CI). Its own environment, so the course's .venv is untouched.
SITE_VENV ?= build/site-venv
SITE_PY   := $(SITE_VENV)/bin/python
.PHONY: site site-smoke
$(SITE_VENV)/.installed: pyproject.toml site/requirements.txt
	test -x $(SITE_PY) || $(PYTHON) -m venv $(SITE_VENV)
	$(SITE_PY) -m pip install -q -e . -r site/requirements.txt
	touch $@
# build/site: every notebook run in full mode with its widget state stored (publishing)
site: $(SITE_VENV)/.installed
	$(SITE_PY) site/build.py --mode full --output build/site
# the same in smoke mode; then `COURSE_REQUIRE_SITE=1 .venv/bin/pytest tests/site` tests it in Chromium
site-smoke: $(SITE_VENV)/.installed
	$(SITE_PY) site/build.py --mode smoke --output build/site
