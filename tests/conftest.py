import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('HF_DATASETS_OFFLINE', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
import sys, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent

@pytest.fixture(scope='session')
def default_model():
    from prunenet.models import load_model
    return load_model()

@pytest.fixture
def bigbench_stand_in(tmp_path):
    """The environment of a CLI run that reads a stand-in for BIG-bench's archive (notebook 09a): made-up tasks under the
    suite's names and winowhy's, so the tests of the machinery need neither the 358 MB download nor PyPI serving it."""
    from prunenet.bigbench import write_archive, made_up_task, STAND_IN
    from prunenet.evaluate import BIGBENCH_SUITE
    tasks = {n: made_up_task(labels=n == 'winowhy', seed=i) for i, n in enumerate([*BIGBENCH_SUITE, 'winowhy'])}
    return dict(os.environ, HF_DATASETS_OFFLINE='1', HF_HUB_OFFLINE='1', **{STAND_IN: str(write_archive(tmp_path/'bigbench.tar.gz', tasks))})

def run_cli(*args, env=None, cwd=None):
    "Run the installed `prunenet` console script; returns the CompletedProcess."
    exe = Path(sys.executable).parent/'prunenet'
    cmd = [str(exe)] if exe.exists() else [sys.executable, '-m', 'prunenet.cli']
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd, timeout=900)

def one_line_error(r, *needles):
    "The CLI failed as bad input should: exit 2, one line on stderr, naming each of `needles`."
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('prunenet: error:'), r.stderr[-2000:]
    for n in needles: assert n in lines[0], lines[0]

def pytest_configure(config):
    config.addinivalue_line('markers', "kernels: touches a real model's arithmetic; `make test-kernels` runs it again under other CPU kernels")

NO_SKIP = 'PRUNENET_NO_SKIP'      # set by `make test-kernels`: a test that skips itself there fails (CONTRIBUTING.md)

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and os.environ.get(NO_SKIP) == '1':
        rep.outcome = 'failed'
        rep.longrepr = f'{item.nodeid} skipped itself in the other-kernels pass, which allows no skip: {rep.longrepr}'
