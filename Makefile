# One machine, SQLite, the built-in CPU engines: `make run`. Tests: `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Debian packages the platform uses (ffprobe, espeak-ng voices; venv where python3 lacks it), and
# what only the tests add (the browser the page tests drive, with CJK fonts for the pages).
APT_PACKAGES := ffmpeg espeak-ng $(shell $(PYTHON) -c "import ensurepip" 2>/dev/null || echo python3-venv)
TEST_APT_PACKAGES := chromium fonts-noto-cjk gettext

.PHONY: install system-packages test-packages run test lint

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade "pip<27"
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

system-packages test-packages: PACKAGES = $(if $(filter test-packages,$@),$(TEST_APT_PACKAGES),$(APT_PACKAGES))
system-packages test-packages:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing $$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "Please install: sudo apt-get install $$missing"; exit 1; \
		fi; \
	fi

run: system-packages install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin
	$(PY) manage.py runplatform

test: system-packages test-packages install
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

lint: system-packages install
	$(VENV)/bin/ruff check .
