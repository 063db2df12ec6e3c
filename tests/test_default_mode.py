"""The default mode (selfgen) through the real command: it prunes better than random units, its policy is reused,
and the baselines are modes with honest reports."""
import json
import pytest, torch
from transformers import AutoModelForCausalLM
from conftest import run_cli

@pytest.fixture(scope='module')
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp('default')/'smol-0.2'
    r = run_cli('compress', '--ratio', '0.2', '--out', out, '--quiet')
    assert r.returncode == 0, r.stderr
    return out, r

def test_default_mode_is_selfgen_and_beats_random(default_run, default_model):
    from prunenet.data import wiki_text
    from prunenet.evaluate import perplexity
    from prunenet.compress import choose_units
    from prunenet.evaluate import masked_perplexity
    out, r = default_run
    assert 'mode selfgen' in r.stdout and 'self-generated' in r.stdout
    rep = json.loads((out/'prunenet_report.json').read_text())
    assert rep['settings']['mode'] == 'selfgen' and rep['data'].startswith('self-generated: 64 x 128 tokens')
    assert rep['settings']['compensate'] == 'refit' and 'compensation: refit' in r.stdout
    assert rep['seconds']['generate'] > 0 and len(rep['history']['topk_error']) == rep['settings']['episodes']
    meta = json.loads((out/'prunenet_policy.json').read_text())
    assert meta['kind'] == 'unit' and meta['mode'] == 'selfgen'
    pruned = AutoModelForCausalLM.from_pretrained(out).eval()
    assert pruned.config.intermediate_size == 1216 and rep['settings']['multiple_of'] == 32   # 1228.8 rounded to 38 blocks of 32
    model, tok = default_model
    text = wiki_text('test')
    ppl = perplexity(pruned, tok, text, max_windows=4)['perplexity']
    rnd = masked_perplexity(model, tok, choose_units(model, 0.2, 'random', seed=0).keep, text, 4)
    assert ppl < 0.8 * rnd, (ppl, rnd)          # measured: about 2-4x lower than random units at this ratio

def test_selfgen_policy_reused_and_mode_mismatch_refused(default_run, tmp_path):
    out, _ = default_run
    r = run_cli('compress', '--policy', out, '--ratio', '0.1', '--out', tmp_path/'y', '--quiet')
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path/'y'/'prunenet_report.json').read_text())
    assert rep['settings']['mode'] == 'selfgen' and rep['history']['episode_rewards'] == [] and rep['policy'] == str(out)
    r = run_cli('compress', '--policy', out, '--mode', 'paper', '--ratio', '0.1', '--out', tmp_path/'z', '--quiet')
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and 'selfgen-mode policy' in r.stderr
    assert not (tmp_path/'z').exists()

@pytest.mark.parametrize('mode,data', [('random', 'none'), ('magnitude', 'none (weights only)'), ('calibrated', 'CALIBRATION DATA')])
def test_baseline_modes(tmp_path, mode, data):
    out = tmp_path/mode
    r = run_cli('compress', '--mode', mode, '--ratio', '0.1', '--out', out, '--quiet')
    assert r.returncode == 0, r.stderr
    rep = json.loads((out/'prunenet_report.json').read_text())
    assert rep['settings']['mode'] == mode and rep['data'].startswith(data) and rep['policy'] == 'none'
    assert not (out/'prunenet_policy.json').exists()
    assert AutoModelForCausalLM.from_pretrained(out).config.intermediate_size == 1376     # the command line: 43 whole blocks of 32
    assert rep['settings']['multiple_of'] == 32 and rep['k'] == 1376
