"`prunenet compress` end to end on the default model: reload, policy reuse, bad input, interruption."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch
from transformers import AutoModelForCausalLM
from conftest import run_cli

D, DFF, L = 576, 1536, 30
DENSE = 134_515_008
def expected_params(k): return DENSE - L * 3 * D * (DFF - k)

@pytest.fixture(scope='module')
def compressed(tmp_path_factory):
    out = tmp_path_factory.mktemp('runs')/'smol-0.1'
    t0 = time.perf_counter()
    r = run_cli('compress', '--ratio', '0.1', '--out', out, '--episodes', '5', '--mode', 'paper', '--seed', '0', '--eval-windows', '2')
    print(f'prunenet compress --ratio 0.1 (5 episodes): {time.perf_counter() - t0:.0f} s wall')
    assert r.returncode == 0, r.stderr
    return out, r

def test_compress_reloads_with_plain_transformers(compressed):
    out, r = compressed
    assert 'FFN width (units/layer)' in r.stdout and '1382' in r.stdout
    assert 'perplexity (2 test windows' in r.stdout                 # dense and pruned, beside the size table
    m = AutoModelForCausalLM.from_pretrained(out)
    assert m.config.intermediate_size == 1382
    assert sum(p.numel() for p in m.parameters()) == expected_params(1382)
    rep = json.loads((out/'prunenet_report.json').read_text())
    assert rep['settings']['seed'] == 0 and rep['settings']['mode'] == 'paper' and rep['settings']['episodes'] == 5
    assert len(rep['history']['episode_rewards']) == 5 and rep['params_after'] == expected_params(1382)
    assert all(len(k) == 1382 for k in rep['keep']) and len(rep['keep']) == L
    meta = json.loads((out/'prunenet_policy.json').read_text())
    assert (meta['d_model'], meta['d_ff'], meta['trained_ratio']) == (D, DFF, 0.1)
    assert not [p for p in out.parent.iterdir() if p.name.startswith('.')], 'temporary directory left behind'

def test_policy_reuse_at_another_ratio(compressed, tmp_path):
    out, _ = compressed
    r = run_cli('compress', '--policy', out/'prunenet_policy.safetensors', '--ratio', '0.2', '--out', tmp_path/'y', '--quiet')
    assert r.returncode == 0, r.stderr
    assert 'no training' in r.stdout
    m = AutoModelForCausalLM.from_pretrained(tmp_path/'y')
    assert m.config.intermediate_size == 1228 and sum(p.numel() for p in m.parameters()) == expected_params(1228)
    assert json.loads((tmp_path/'y'/'prunenet_report.json').read_text())['history']['episode_rewards'] == []

def test_paper_mode_names_its_numerics(compressed):
    "By default paper mode runs the authors' numerics, and says so with the steps it skipped, in its output and report."
    out, r = compressed
    h = json.loads((out/'prunenet_report.json').read_text())['history']
    taken, tried = sum(h['step_taken']), len(h['step_taken'])
    assert h['numerics'] == 'authors' and tried == 5 * L and taken <= 1 and h['steps_skipped'][-1] == L
    assert f'numerics authors: optimiser steps taken {taken} of {tried} ({tried - taken} skipped' in r.stdout
    assert json.loads((out/'prunenet_policy.json').read_text())['numerics'] == 'authors'

def test_exact_numerics_and_per_layer_draws_from_the_command_line(tmp_path):
    out = tmp_path/'b'
    r = run_cli('compress', '--ratio', '0.1', '--out', out, '--mode', 'paper', '--episodes', '3', '--sampling', 'layer',
                '--numerics', 'exact', '--workers', '2', '--quiet')
    assert r.returncode == 0, r.stderr
    rep = json.loads((out/'prunenet_report.json').read_text())
    assert (rep['settings']['sampling'], rep['settings']['numerics'], rep['settings']['workers']) == ('layer', 'exact', 2)
    assert len(rep['history']['episode_rewards']) == 3 and rep['history']['steps_taken'] == [L] * 3
    assert 'numerics exact: optimiser steps taken 90 of 90' in r.stdout
    assert AutoModelForCausalLM.from_pretrained(out).config.intermediate_size == 1382

def _tiny_policy(tmp_path):
    from prunenet.adapters import tiny_model
    from prunenet.compress import compress, save_compressed
    res = compress(tiny_model('llama'), 0.5, 'paper', episodes=1, progress=False)
    save_compressed(res, None, tmp_path/'tiny')
    return tmp_path/'tiny'/'prunenet_policy.json'

@pytest.mark.parametrize('args,msg', [
    (['--ratio', '1.0'], 'ratio must be in [0, 1)'),
    (['--ratio', '-0.1'], 'ratio must be in [0, 1)'),
    (['--ratio', '0.9999'], 'keeps no unit'),
    (['--ratio', '0.1', '--model', '/no/such/model'], 'does not exist'),
    (['--ratio', '0.1', '--policy', '/no/such/policy.json'], 'does not exist'),
    (['--ratio', '0.1', '--mode', 'magic'], 'unknown mode'),
    (['--ratio', '0.1', '--mode', 'paper', '--workers', '-1'], 'workers must be >= 0'),
    (['--ratio', '0.1', '--mode', 'selfgen', '--numerics', 'exact'], 'numerics applies to paper mode'),
    (['--ratio', '0.1', '--eval-windows', '-1'], 'eval-windows must be >= 0'),
    (['--ratio', '0.1', '--compensate', 'refit', '--ridge', '-1'], 'ridge must be >= 0'),
    (['--ratio', '0.1', '--policy', 'TINY'], 'trained for d_model 16, d_ff 48'),
])
def test_bad_input_one_line_nothing_written(tmp_path, args, msg):
    if 'TINY' in args: args = [str(_tiny_policy(tmp_path)) if a == 'TINY' else a for a in args]
    out = tmp_path/'out'
    r = run_cli('compress', *args, '--out', out, '--quiet')
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('prunenet: error:') and msg in lines[0], r.stderr
    assert not out.exists()

def test_non_empty_output_refused_then_overwritten(tmp_path):
    out = tmp_path/'out'; out.mkdir(); (out/'precious.txt').write_text('keep me')
    r = run_cli('compress', '--ratio', '0.05', '--out', out, '--mode', 'random', '--quiet')
    assert r.returncode == 2 and 'not empty' in r.stderr
    assert (out/'precious.txt').read_text() == 'keep me'
    r = run_cli('compress', '--ratio', '0.05', '--out', out, '--mode', 'random', '--quiet', '--overwrite')
    assert r.returncode == 0, r.stderr
    assert not (out/'precious.txt').exists() and (out/'model.safetensors').exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out']

def test_interrupted_run_writes_nothing(tmp_path):
    exe = Path(sys.executable).parent/'prunenet'
    out = tmp_path/'out'
    p = subprocess.Popen([str(exe), 'compress', '--ratio', '0.1', '--out', str(out), '--mode', 'paper', '--episodes', '200'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))   # as from a terminal, even if
                                                                                              # this run ignores SIGINT
    # wait until training has started (the progress bar appears), then interrupt
    buf = ''
    deadline = time.time() + 600                     # a loaded machine can take minutes to get there
    while 'policy episodes' not in buf and time.time() < deadline and p.poll() is None:
        buf += os.read(p.stderr.fileno(), 4096).decode(errors='replace')
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []

def test_failure_during_save_leaves_nothing(tmp_path, monkeypatch):
    import prunenet.compress as pc
    from prunenet.adapters import tiny_model
    res = pc.compress(tiny_model('opt'), 0.5, episodes=1, progress=False)
    def boom(*a, **k): raise OSError('disk full')
    monkeypatch.setattr(pc, 'save_policy', boom)
    with pytest.raises(OSError): pc.save_compressed(res, None, tmp_path/'out')
    assert list(tmp_path.iterdir()) == []

def test_half_precision_models_compress(tmp_path):
    from prunenet.adapters import tiny_model, ffn_blocks
    from prunenet.compress import compress
    for dt in (torch.float16, torch.bfloat16):
        for mode in ('paper', 'selfgen'):
            m = tiny_model('llama').to(dt)
            res = compress(m, 0.3, mode, episodes=2, progress=False)
            assert all(torch.isfinite(torch.tensor(r)).all() for r in res.report.history['episode_rewards'])
            assert all(torch.isfinite(p).all() for p in res.policy.parameters())
            assert [b.width for b in ffn_blocks(m)] == [33, 33]

@pytest.mark.parametrize('how', ['refit', 'refit+bias'])
def test_refit_compensation(tmp_path, default_model, how):
    "random units + refit on the model's own text: the report says so, only the out-projections change, it reloads (with its bias)."
    from transformers import AutoModelForCausalLM
    import copy, json, torch
    from prunenet.adapters import ffn_blocks, slice_ffn_
    from prunenet.compress import compress, save_compressed
    model, tok = copy.deepcopy(default_model[0]), default_model[1]
    res = compress(model, 0.2, 'random', compensate=how, tokenizer=tok, gen_seqs=2, gen_tokens=32, progress=False)
    save_compressed(res, tok, tmp_path/'refit')
    rep = json.loads((tmp_path/'refit'/'prunenet_report.json').read_text())
    assert rep['settings']['compensate'] == how and 'refit on self-generated: 2 x 32 tokens sampled by the model' in rep['data']
    refit = AutoModelForCausalLM.from_pretrained(tmp_path/'refit')
    sliced = copy.deepcopy(default_model[0]); slice_ffn_(sliced, [torch.tensor(k) for k in rep['keep']])
    for a, b in zip(ffn_blocks(refit), ffn_blocks(sliced)):
        assert torch.equal(a.state_matrix(), b.state_matrix()) and a.out_matrix().shape == b.out_matrix().shape
        assert not torch.equal(a.out_matrix(), b.out_matrix())
    ids = torch.tensor([[1, 2, 3, 4]])
    for a, b in zip(ffn_blocks(refit), ffn_blocks(res.model)): assert torch.equal(a.out_matrix(), b.out_matrix())   # saved exactly
    assert refit.config.mlp_bias == (how == 'refit+bias')
    if how == 'refit+bias':
        for a, b in zip(ffn_blocks(refit), ffn_blocks(res.model)):
            assert torch.equal(a.out.bias, b.out.bias) and a.out.bias.abs().sum() > 0 and all(not m.bias.any() for m in a.ins)
    with torch.no_grad(): torch.testing.assert_close(refit(ids).logits, res.model(ids).logits)   # same weights; kernels may differ in rounding

def test_offloaded_compress_with_text_written_before(tmp_path):
    """`prunenet selfgen-text` writes the model's own text; `prunenet compress --max-memory` reads it, runs the default on the
    model with its layers offloaded to disk, and writes a checkpoint that plain transformers reloads (notebook 13a)."""
    from prunenet.adapters import tiny_model
    from prunenet.models import load_model
    _, tok = load_model()
    src = tmp_path/'tiny'
    tiny_model('llama', d_model=64, d_ff=256, n_layers=4, vocab_size=len(tok)).save_pretrained(src); tok.save_pretrained(src)
    r = run_cli('selfgen-text', '--model', src, '--out', tmp_path/'own.safetensors', '--gen-seqs', '4', '--gen-tokens', '16', '--seed', '1')
    assert r.returncode == 0, r.stderr
    assert 'wrote 4 x 16 tokens' in r.stdout
    r = run_cli('compress', '--model', src, '--ratio', '0.25', '--out', tmp_path/'out', '--max-memory', '3.3MB', '--quiet',
                '--selfgen-text', tmp_path/'own.safetensors', '--episodes', '2')
    assert r.returncode == 0, r.stderr
    assert 'on disk' in r.stdout and f"read from {tmp_path/'own.safetensors'}: 4 x 16 tokens" in r.stdout, r.stdout
    m = AutoModelForCausalLM.from_pretrained(tmp_path/'out')
    assert m.config.intermediate_size == 192 and m.model.layers[3].mlp.down_proj.weight.shape == (64, 192)
    rep = json.loads((tmp_path/'out'/'prunenet_report.json').read_text())
    assert rep['placement'].get('disk', 0) >= 1 and rep['settings']['selfgen_text'] == str(tmp_path/'own.safetensors')
    assert rep['settings']['multiple_of'] == 32           # the command line's width, offloaded too (192 = 6 x 32 units)
    bad = run_cli('compress', '--model', src, '--ratio', '0.25', '--out', tmp_path/'o2', '--max-memory', 'plenty')
    assert bad.returncode == 2 and 'must be a size' in bad.stderr and not (tmp_path/'o2').exists()
