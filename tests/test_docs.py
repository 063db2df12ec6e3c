"The Quarto site config is real: it parses, lists every notebook in order, and nbdev finds it."
import json, re, subprocess, sys
from pathlib import Path
import yaml
from conftest import ROOT

def _sidebar_files(contents):
    for c in contents:
        if isinstance(c, str): yield c
        elif isinstance(c, dict):
            if 'contents' in c: yield from _sidebar_files(c['contents'])
            elif 'href' in c: yield c['href']

def test_quarto_config_lists_every_notebook_in_order():
    cfg = yaml.safe_load((ROOT/'_quarto.yml').read_text())
    assert cfg['project']['type'] == 'website'
    listed = list(_sidebar_files(cfg['website']['sidebar']['contents']))
    nbs = ROOT/'nbs'
    for f in listed: assert (nbs/f).exists(), f'{f} is in the sidebar but not in nbs/'
    present = sorted(p.name for p in nbs.glob('*.ipynb') if not p.name.startswith('_'))
    assert sorted(listed) == present, 'every notebook must be in the sidebar'
    numbered = [f for f in listed if re.match(r'\d', f)]
    assert numbered == sorted(numbered), 'numbered notebooks must appear in order'
    assert listed[0] == 'index.ipynb'
    for m in cfg.get('metadata-files', []): assert m in ('nbdev.yml', 'sidebar.yml')
    css = cfg['format']['html'].get('css')
    if css: assert (nbs/css).exists()

def test_nbdev_uses_this_config():
    assert (ROOT/'nbs'/'_quarto.yml').resolve() == (ROOT/'_quarto.yml').resolve()

def test_notebooks_are_valid_and_export_modules():
    from configparser import ConfigParser
    cfg = ConfigParser(); cfg.read(ROOT/'settings.ini')
    assert cfg['DEFAULT']['tst_flags'].split() == ['notest', 'slow', 'gpu', 'bigbench']
    for nb in (ROOT/'nbs').glob('[0-9]*.ipynb'):
        cells = json.loads(nb.read_text())['cells']
        src = '\n'.join(''.join(c['source']) for c in cells)
        m = re.search(r'#\|[ \t]*default_exp[ \t]+(\S+)', src)
        assert m, f'{nb.name} has no default_exp'
        assert (ROOT/'prunenet'/f'{m.group(1)}.py').exists()

def test_readme_in_step_with_index():
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

def test_every_notebook_opens_on_colab():
    "A badge that opens the notebook itself on Colab, then a hidden install cell that nbdev_test skips."
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        cells = json.loads(nb.read_text())['cells']
        assert f'colab.research.google.com/github/prunenet/prunenet/blob/main/nbs/{nb.name})' in ''.join(cells[0]['source']), nb.name
        src = ''.join(cells[1]['source'])
        assert cells[1]['cell_type'] == 'code' and '#| hide' in src and '#| eval: false' in src and 'google.colab' in src, nb.name

def test_workflows_run_what_ci_runs():
    wf = ROOT/'.github'/'workflows'
    test, deploy = (yaml.safe_load((wf/f).read_text()) for f in ('test.yaml', 'deploy.yaml'))
    assert any(s.get('run') == 'bash .ci/run' for s in test['jobs']['test']['steps'])
    runs = ' '.join(s.get('run', '') for s in deploy['jobs']['deploy']['steps'])
    assert 'make install' in runs and 'nbdev_docs' in runs
    assert any(s.get('with', {}).get('publish_dir') == './_docs' for s in deploy['jobs']['deploy']['steps'])

def _mixes_imports_and_code(src):
    "nbdev's docs processor executes any cell holding an import (notebook or not exported); one that also computes is run in full."
    import ast
    if re.search(r'^#\|\s*(export|exports|exporti|exec_doc)\s*$', src, re.M) or re.search(r'^#\|\s*eval:\s*false', src, re.M): return False
    try: tree = ast.parse(src)
    except SyntaxError: return False
    return any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree)) and \
           any(not isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body)

def test_docs_processors_execute_only_imports_and_exports():
    "So that `make docs-proc` (nbdev's processors) runs in seconds instead of re-running the notebooks' experiments."
    bad = [f"{p.name}:{c.get('id')}" for p in sorted((ROOT/'nbs').glob('*.ipynb')) for c in json.loads(p.read_text())['cells']
           if c['cell_type'] == 'code' and _mixes_imports_and_code(''.join(c['source']))]
    assert not bad, f'cells mixing imports and other code (move the imports into a cell of their own): {bad}'

def _sha(src): import hashlib; return hashlib.sha256(src.encode()).hexdigest()

def stale_outputs(paths) -> list:
    "Code cells whose outputs were not recorded from their current source (tools/execute.py stamps the source's hash)."
    bad = []
    for p in paths:
        for c in json.loads(p.read_text())['cells']:
            if c['cell_type'] != 'code' or not c.get('outputs'): continue
            src, meta = ''.join(c['source']), c.get('metadata', {}).get('prunenet', {})
            if meta.get('source_sha256') == _sha(src): continue
            if meta.get('why') and meta.get('source_now') == _sha(src): continue     # marked: recorded from an older source, and why
            bad.append(f"{p.name}:{c.get('id')}" + (' (no hash recorded)' if 'source_sha256' not in meta else ''))
    return bad

def test_every_recorded_output_comes_from_its_cell():
    "A cell's outputs were recorded from the source it has now (or the cell is marked with why not); re-run it otherwise."
    bad = stale_outputs(sorted((ROOT/'nbs').glob('*.ipynb')))
    assert not bad, 'cells whose source changed after their outputs were recorded (python tools/execute.py NB [--cells ID]):\n' + '\n'.join(bad)

def test_the_output_check_sees_a_changed_cell(tmp_path):
    cell = dict(cell_type='code', id='c1', source=['print(1)'], outputs=[dict(output_type='stream', name='stdout', text=['1\n'])],
                metadata=dict(prunenet=dict(source_sha256=_sha('print(1)'))))
    nb = tmp_path/'n.ipynb'
    nb.write_text(json.dumps(dict(cells=[cell])))
    assert stale_outputs([nb]) == []
    cell['source'] = ['print(2)']; nb.write_text(json.dumps(dict(cells=[cell])))
    assert stale_outputs([nb]) == ['n.ipynb:c1']
    cell['metadata']['prunenet'].update(why='a comment changed', source_now=_sha('print(2)')); nb.write_text(json.dumps(dict(cells=[cell])))
    assert stale_outputs([nb]) == []
    cell['metadata'] = {}; nb.write_text(json.dumps(dict(cells=[cell])))
    assert stale_outputs([nb]) == ['n.ipynb:c1 (no hash recorded)']

def test_no_notebook_silences_transformers_on_its_own():
    "Progress bars are switched off in one place (tools/execute.py, which writes the docs' outputs), not per notebook."
    hits = [p.name for p in sorted((ROOT/'nbs').glob('*.ipynb')) if '_hf_logging' in p.read_text()]
    assert not hits, hits
    assert 'HF_HUB_DISABLE_PROGRESS_BARS' in (ROOT/'tools'/'execute.py').read_text()
