# ntmgis: two commands do all the set-up on a fresh Debian/Ubuntu machine.
#   make demo   -> library venv, then the main job on the sample commune in layers/ (writes out/)
#   make test   -> library venv + QGIS venv, then ruff, library tests, QGIS tests, notebooks
SHELL := /bin/bash
PYTHON ?= python3
QGIS_PYTHON ?= /usr/bin/python3
VENV := .venv
QVENV := .venv-qgis
PIP := --disable-pip-version-check --only-binary :all: -q
GEO := "geopandas>=1" "shapely>=2" "rasterio>=1.4" "pyproj>=3.7" "pyogrio>=0.9"
APT_QGIS := python3-qgis qgis-providers qgis xvfb xauth python3-venv python3-pip poppler-utils qttools5-dev-tools
# the print tests (tests/test_print.py) convert the reports with LibreOffice headless
APT_PRINT := libreoffice-calc-nogui fonts-liberation2
# the fetch tests' servers (tests/stac/): PostgreSQL + PostGIS for pgstac, nginx for the COGs
APT_FETCH := postgresql-15-postgis-3 nginx-light
export QT_QPA_PLATFORM := offscreen

.PHONY: demo test venv qgis-venv print-deps fetch-deps lint test-lib test-qgis test-qgis-lts test-notebooks sample plugin clean

demo: venv
	$(VENV)/bin/ntmgis run --sample -o out

test: venv qgis-venv print-deps
	@status=0; \
	$(MAKE) --no-print-directory lint || status=1; \
	$(MAKE) --no-print-directory test-lib NTMGIS_REQUIRE_PRINT=1 || status=1; \
	$(MAKE) --no-print-directory test-qgis || status=1; \
	$(MAKE) --no-print-directory test-notebooks || status=1; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED (see above)"; fi; \
	exit $$status

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py
	@if ! $(PYTHON) -c "import ensurepip, venv" 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip; \
	  else echo "Python's venv module is missing. Run: sudo apt-get install -y python3-venv python3-pip"; exit 1; fi; fi
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP) --upgrade pip
	$(VENV)/bin/pip install $(PIP) -e ".[dev]"
	touch $@

qgis-venv: $(QVENV)/.installed

$(QVENV)/.installed: pyproject.toml setup.py
	@if ! $(QGIS_PYTHON) -c "import qgis.core, ensurepip" 2>/dev/null || ! command -v pdftotext >/dev/null || ! command -v lrelease >/dev/null || ! command -v qgis >/dev/null || ! command -v xvfb-run >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's QGIS (about 3 minutes)..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_QGIS); \
	  else echo "QGIS is missing. Run: sudo apt-get install -y --no-install-recommends $(APT_QGIS)"; exit 1; fi; fi
	test -x $(QVENV)/bin/python || $(QGIS_PYTHON) -m venv --system-site-packages $(QVENV)
	$(QVENV)/bin/pip install $(PIP) --upgrade pip
	$(QVENV)/bin/pip install $(PIP) "numpy<2" "attrs>=23.2" $(GEO) "pytest>=8" "hypothesis>=6.100" "pytest-qgis==5.0.2" "bandit>=1.7" "flake8-qgis>=2" "stac-fastapi-pgstac[server]>=6" -e .
	$(QVENV)/bin/pip install $(PIP) --no-deps "pypgstac==0.10.0"
	touch $@

# pgstac's schema SQL ships in the pypgstac wheel, whose CLI needs a package without wheels
# (fire): install the wheel alone, the tests load its SQL with psql
fetch-deps: venv
	@if [ ! -x /usr/lib/postgresql/15/bin/initdb ] || [ ! -f /usr/share/postgresql/15/extension/postgis.control ] || [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_FETCH); \
	  else echo "The fetch tests need: sudo apt-get install -y --no-install-recommends $(APT_FETCH)"; fi; fi
	@$(VENV)/bin/python -c "import pypgstac" 2>/dev/null || $(VENV)/bin/pip install $(PIP) --no-deps "pypgstac==0.10.0"

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# LibreOffice Calc without its GUI (about 150 MB), only when soffice is missing
print-deps:
	@if ! command -v soffice >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing LibreOffice Calc (headless) for the print tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PRINT); \
	  else echo "LibreOffice is missing. Run: sudo apt-get install -y --no-install-recommends $(APT_PRINT)"; exit 1; fi; fi

test-lib: venv fetch-deps
	NTMGIS_REQUIRE_PRINT=$(NTMGIS_REQUIRE_PRINT) \
	$(VENV)/bin/python -m pytest tests --ignore=tests/qgis -p no:cacheprovider
	$(VENV)/bin/python -m pytest ntmgis --doctest-modules -p no:cacheprovider -q

test-qgis: qgis-venv fetch-deps
	$(QVENV)/bin/python -m pytest tests/qgis -p no:cacheprovider

# tests/qgis on QGIS 3.40 LTR (Debian trixie's, in a chroot cached under /var/tmp/ntmgis-trixie;
# root, about 10 minutes the first time); not part of `make test`
test-qgis-lts:
	scripts/qgis_lts.sh

test-notebooks: venv
	@if ls notebooks/*.ipynb >/dev/null 2>&1; then \
	  $(VENV)/bin/pip install $(PIP) -e ".[dev,notebook]" nbmake && \
	  $(VENV)/bin/python -m pytest --nbmake notebooks -p no:cacheprovider; \
	else echo "test-notebooks: no notebooks yet (notebooks/*.ipynb)"; fi

# the QGIS plugin ZIP (dist/ntmgis_qgis-<version>.zip, with the ntmgis wheel), translations
# compiled by lrelease; also dist/ntmgis-<version>-py3-none-any.whl
plugin:
	@if ! command -v lrelease >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qttools5-dev-tools; \
	  else echo "lrelease is missing. Run: sudo apt-get install -y qttools5-dev-tools"; exit 1; fi; fi
	$(PYTHON) scripts/build_plugin.py

sample: venv
	$(VENV)/bin/ntmgis sample layers --seed 2020

clean:
	rm -rf out dist build *.egg-info .pytest_cache .ruff_cache
