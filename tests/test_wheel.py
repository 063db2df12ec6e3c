"The package as users get it: a wheel, installed outside the repository, used from another directory."
import os, subprocess, sys, zipfile
from importlib.metadata import version, PackageNotFoundError
from packaging.requirements import Requirement
import pytest
from conftest import ROOT

@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    "Build the wheel from the repository and install it (without dependencies) into a directory of its own."
    tmp = tmp_path_factory.mktemp('wheel')
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', tmp/'dist', ROOT],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    whl = next((tmp/'dist').glob('prunenet-*.whl'))
    r = subprocess.run([sys.executable, '-m', 'pip', 'install', '--no-deps', '-q', '--target', tmp/'site', whl], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    return whl, tmp/'site', tmp/'elsewhere'

def test_wheel_holds_every_module_and_its_requirements_are_met(installed):
    whl = installed[0]
    names = zipfile.ZipFile(whl).namelist()
    assert {f'prunenet/{p.name}' for p in (ROOT/'prunenet').glob('*.py')} <= set(names)
    meta = next(n for n in names if n.endswith('.dist-info/METADATA'))
    reqs = [Requirement(l.split(':', 1)[1].strip()) for l in zipfile.ZipFile(whl).read(meta).decode().splitlines()
            if l.startswith('Requires-Dist:')]
    core = [q for q in reqs if not q.marker]                         # the 'dev' extra is marked; runtime requirements are not
    assert {q.name for q in core} >= {'torch', 'transformers', 'lm-eval'}
    for q in core:
        try: have = version(q.name)
        except PackageNotFoundError: pytest.fail(f'{q.name} is required by the wheel but not installed')
        assert q.specifier.contains(have, prereleases=True), (q, have)

def test_installed_wheel_runs_from_another_directory(installed, tmp_path):
    _, site, _ = installed
    env = dict(os.environ, PYTHONPATH=str(site), HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1')
    exe = site/'bin'/'prunenet'                                       # the console script the wheel declares
    run = lambda *a: subprocess.run([str(exe), *map(str, a)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900)
    r = subprocess.run([sys.executable, '-c', 'import prunenet; print(prunenet.__file__)'], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.stdout.strip().startswith(str(site)), r.stdout            # the wheel's copy, not the repository's
    r = run('info', '--prompt', '')
    assert r.returncode == 0 and 'LlamaForCausalLM' in r.stdout, r.stderr[-2000:]
    r = run('compress', '--mode', 'random', '--ratio', '0.2', '--out', tmp_path/'pruned', '--quiet')
    assert r.returncode == 0 and (tmp_path/'pruned'/'config.json').exists(), r.stderr[-2000:]
    r = run('eval', '--model', tmp_path/'pruned', '--tasks', 'ppl,mmlu_dev', '--limit', '2', '--windows', '2', '--out', tmp_path/'e.json', '--quiet')
    assert r.returncode == 0 and (tmp_path/'e.json').exists(), r.stderr[-2000:]
    r = run('export', tmp_path/'pruned', '--gguf', tmp_path/'pruned.gguf', '--type', 'f16')
    assert r.returncode == 0 and (tmp_path/'pruned.gguf').stat().st_size > 0, r.stderr[-2000:]
    r = run('recover', tmp_path/'pruned', '--out', tmp_path/'recovered', '--steps', '2', '--pool', '2', '--seq-len', '16', '--batch-size', '1', '--quiet')
    assert r.returncode == 0 and (tmp_path/'recovered'/'config.json').exists(), r.stderr[-2000:]
