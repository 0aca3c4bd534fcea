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
#   make site-smoke  the same website from smoke runs (quick; what CI builds)
#   make site-test   the built website in headless Chromium with no kernel (tests/site; CI runs it)

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

# The course website (site/, issue 19). Its packages (site/requirements.txt: Sphinx, MyST-NB, the book theme and
# what they need) go into the course's own .venv by default: the site build runs the notebooks, so a separate
# environment would need a second torch + torchvision (a 5.5 GB CUDA build here) for nothing. Measured before
# choosing: `pip install --dry-run -r site/requirements.txt` in .venv adds 24 packages and changes the version of
# none it already holds (myst-parser 5 takes the markdown-it-py 4 that jupytext uses); `pip check` runs after the
# install and fails the target on any conflict. SITE_VENV=other/venv builds a separate environment instead.
# npm (for site/vendor.py) must be on PATH: Node.js's own, or Debian's npm package.
SITE_VENV ?= $(VENV)
SITE_PY   := $(SITE_VENV)/bin/python
.PHONY: site site-smoke site-test site-env
site-env: $(SITE_VENV)/.site-installed
$(SITE_VENV)/.site-installed: pyproject.toml site/requirements.txt | env
	test -x $(SITE_PY) || $(PYTHON) -m venv $(SITE_VENV)
	$(SITE_PY) -m pip install -q $(if $(filter $(VENV),$(SITE_VENV)),,-e ".[dev]") -r site/requirements.txt
	$(SITE_PY) -m pip check
	touch $@
# build/site: every notebook run in full mode with its widget state stored (publishing)
site: site-env
	$(SITE_PY) site/build.py --mode full --output build/site
# the same in smoke mode (what CI builds)
site-smoke: site-env
	$(SITE_PY) site/build.py --mode smoke --output build/site
# the built site (make site-smoke or make site first) in headless Chromium, with no kernel: every page, image,
# link, formula and kernel-free widget (tests/site); required to run, not skipped. Times: artifacts/site/.
site-test: site-env
	COURSE_REQUIRE_SITE=1 $(SITE_PY) -m pytest tests/site -q -p no:cacheprovider
