"Bad input that used to end in a traceback: one line on stderr, exit status 2, nothing written."
import torch
import pytest
from conftest import run_cli, one_line_error

@pytest.fixture
def tiny_dir(tmp_path, default_model):
    "A tiny LLaMA saved with a real tokenizer, so that only its weights decide what happens."
    from prunenet.adapters import tiny_model
    def make(name='tiny', damage=None):
        m = tiny_model('llama')
        if damage: damage(m)
        d = tmp_path/name
        m.save_pretrained(d); default_model[1].save_pretrained(d)
        return d
    return make

def test_truncated_weights_file(tiny_dir, tmp_path):
    d = tiny_dir()
    f = d/'model.safetensors'
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])          # a download or copy cut short
    r = run_cli('compress', '--model', d, '--ratio', '0.2', '--mode', 'paper', '--out', tmp_path/'out', '--quiet')
    one_line_error(r, str(d), 'cannot be read')
    assert not (tmp_path/'out').exists()

def test_nan_weights_in_paper_mode(tiny_dir, tmp_path):
    def nan_in_layer_1(m):
        with torch.no_grad(): m.model.layers[1].mlp.gate_proj.weight[3, 2] = float('nan')
    d = tiny_dir('nan', nan_in_layer_1)
    r = run_cli('compress', '--model', d, '--ratio', '0.2', '--mode', 'paper', '--out', tmp_path/'out', '--quiet')
    one_line_error(r, "layer 1's FFN weights are not finite")
    assert not (tmp_path/'out').exists()

def test_misspelt_task_name(tmp_path):
    r = run_cli('eval', '--tasks', 'ppl,clozee', '--out', tmp_path/'e.json', '--quiet')
    one_line_error(r, 'unknown task(s) clozee', 'did you mean cloze')
    assert not (tmp_path/'e.json').exists()

@pytest.mark.parametrize('task,msg', [('bigbench:winowhyy', 'did you mean winowhy'),
                                      ('bigbench:social_iqa', 'reserved for independent validation')])
def test_bigbench_task_names(tmp_path, task, msg, bigbench_stand_in):
    r = run_cli('eval', '--tasks', f'ppl,{task}', '--out', tmp_path/'e.json', '--quiet', env=bigbench_stand_in)
    one_line_error(r, msg)
    assert not (tmp_path/'e.json').exists()

def test_reference_that_is_not_an_evaluation(tmp_path):
    (tmp_path/'ref.json').write_text('{"not": "an evaluation"}')
    for ref in (tmp_path/'ref.json', tmp_path/'missing.json'):
        r = run_cli('eval', '--tasks', 'ppl', '--reference', ref, '--out', tmp_path/'e.json', '--quiet')
        one_line_error(r, str(ref), 'is not an evaluation written by prunenet eval')
    assert not (tmp_path/'e.json').exists()
