"Every GPU cell of every notebook, rehearsed on the CPU with local stand-ins (notebook 10c): `pytest -k rehearsal`."
import os, re, subprocess, sys
from pathlib import Path
import pytest
from execnb.nbio import read_nb
from prunenet.rehearsal import gpu_cells

NBS = Path(__file__).parent.parent/'nbs'
GPU_NOTEBOOKS = [pytest.param(p, len(gpu_cells(read_nb(p))), id=p.stem) for p in sorted(NBS.glob('*.ipynb')) if gpu_cells(read_nb(p))]

def test_rehearsal_finds_the_gpu_cells():
    names = [p.id for p in GPU_NOTEBOOKS]
    assert '10_evaluate' in names and '02_data' in names, names

@pytest.mark.parametrize('nb,n', GPU_NOTEBOOKS)
def test_rehearsal_runs_every_gpu_cell(nb, n, bigbench_stand_in):
    # a child process with the switches set before any import: the hub libraries read them once, when imported; the
    # paper's tasks stand in as BIG-bench tasks, read here from a stand-in archive (no download: CONTRIBUTING.md)
    env = {**bigbench_stand_in, 'PRUNENET_REHEARSAL': '1', 'HF_HUB_OFFLINE': '1', 'HF_DATASETS_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1'}
    r = subprocess.run([sys.executable, '-c', 'from prunenet.rehearsal import main; main()', str(nb)], env=env, capture_output=True, text=True, timeout=1500)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-6000:]
    assert len(re.findall(r'^\S+ \S+: [\d.]+ s$', r.stdout, re.M)) == n, r.stdout
