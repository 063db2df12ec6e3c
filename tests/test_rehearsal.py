"Every GPU cell of every notebook, rehearsed on the CPU with local stand-ins (notebook 03a): `pytest -k rehearsal`."
import json, re
from pathlib import Path
import pytest

NBS = Path(__file__).parent.parent/'nbs'

def _gpu_notebooks():
    out = []
    for p in sorted(NBS.glob('*.ipynb')):
        cells = json.loads(p.read_text())['cells']
        n = sum(c['cell_type'] == 'code' and bool(re.search(r'^#\|\s*gpu\s*$', ''.join(c['source']), re.M)) for c in cells)
        if n: out.append(pytest.param(p, n, id=p.stem))
    return out

GPU_NOTEBOOKS = _gpu_notebooks()

def test_rehearsal_finds_the_gpu_cells():
    names = [p.id for p in GPU_NOTEBOOKS]
    assert '10_evaluate' in names and '02_data' in names, names

@pytest.mark.parametrize('nb,n', GPU_NOTEBOOKS)
def test_rehearsal_runs_every_gpu_cell(nb, n, tmp_path):
    from prunenet.rehearsal import rehearse
    ran = rehearse(nb, tmp_path)
    assert len(ran) == n
