"`prunenet recover`: a round trip on a tiny model with the real tokenizer, and bad input (one line, exit 2, nothing written)."
import json
import pytest, torch
from conftest import run_cli, one_line_error

@pytest.fixture
def tiny(tmp_path, default_model):
    "A tiny LLaMA with the default model's tokenizer (so real text works), saved dense and pruned by prunenet at 0.25."
    from transformers import LlamaConfig, LlamaForCausalLM
    from prunenet.compress import compress, save_compressed
    tok = default_model[1]
    torch.manual_seed(0)
    m = LlamaForCausalLM(LlamaConfig(hidden_size=16, intermediate_size=48, num_hidden_layers=2, num_attention_heads=2,
                                     num_key_value_heads=1, head_dim=8, vocab_size=len(tok), bos_token_id=tok.bos_token_id,
                                     eos_token_id=tok.eos_token_id)).eval()
    m.save_pretrained(tmp_path/'dense'); tok.save_pretrained(tmp_path/'dense')
    save_compressed(compress(m, 0.25, 'random', progress=False), tok, tmp_path/'pruned')
    return tmp_path

SMALL = ['--steps', '3', '--pool', '4', '--seq-len', '8', '--batch-size', '2', '--quiet']

def test_round_trip_reloads_with_plain_transformers(tiny):
    from transformers import AutoModelForCausalLM
    r = run_cli('recover', tiny/'pruned', '--out', tiny/'rec', '--dense', tiny/'dense', '--eval-windows', '2', *SMALL)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'perplexity (2 test windows): before' in r.stdout and 'saved to' in r.stdout
    back, pruned = (AutoModelForCausalLM.from_pretrained(tiny/d) for d in ('rec', 'pruned'))
    assert {n: p.shape for n, p in back.named_parameters()} == {n: p.shape for n, p in pruned.named_parameters()}
    assert not any('lora' in n for n, _ in back.named_parameters())
    assert not torch.equal(back.model.layers[0].mlp.down_proj.weight, pruned.model.layers[0].mlp.down_proj.weight)
    rep = json.loads((tiny/'rec'/'prunenet_report.json').read_text())
    rec = rep['recovery']
    assert rec['settings']['recipe'] == 'selfgen' and rec['settings']['loss'] == 'kd' and len(rec['losses']) == 3
    assert rec['data'].startswith('self-generated: 4 x 8 tokens') and rec['dense'] == str(tiny/'dense')
    assert rep['keep'] == json.loads((tiny/'pruned'/'prunenet_report.json').read_text())['keep']

def test_paper_recipe_and_a_text_file_are_recorded_as_data(tiny):
    r = run_cli('recover', tiny/'pruned', '--out', tiny/'paper', '--recipe', 'paper', *SMALL)     # needs no dense model
    assert r.returncode == 0, r.stderr[-3000:]
    rec = json.loads((tiny/'paper'/'prunenet_report.json').read_text())['recovery']
    assert rec['data'].startswith('CALIBRATION DATA') and rec['settings']['loss'] == 'ntp' and rec['dense'] is None
    (tiny/'t.txt').write_text('The river flows through the old town and past the mill. ' * 40)
    r = run_cli('recover', tiny/'pruned', '--out', tiny/'text', '--dense', tiny/'dense', '--text', tiny/'t.txt', *SMALL)
    assert r.returncode == 0, r.stderr[-3000:]
    rec = json.loads((tiny/'text'/'prunenet_report.json').read_text())['recovery']
    assert rec['data'].startswith('DATA: 4 x 8 tokens of the text file') and rec['settings']['data'] == 'text'

@pytest.mark.parametrize('args, msg', [
    (['DENSE'], 'was not pruned by prunenet'),
    (['EMPTY'], 'no model pruned by prunenet'),
    (['PRUNED', '--steps', '0'], 'steps must be a positive integer'),
    (['PRUNED', '--steps', '-4'], 'steps must be a positive integer'),
    (['PRUNED', '--text', 'MISSING'], 'does not exist'),
    (['PRUNED'], 'pass the model it was pruned from'),           # the default model is not the one it was pruned from
])
def test_bad_input_one_line_nothing_written(tiny, args, msg):
    (tiny/'empty').mkdir()
    names = dict(DENSE=tiny/'dense', EMPTY=tiny/'empty', PRUNED=tiny/'pruned', MISSING=tiny/'missing.txt')
    before = sorted(p.name for p in tiny.iterdir())
    r = run_cli('recover', *SMALL, *[names.get(a, a) for a in args], '--out', tiny/'out')     # later options win
    one_line_error(r, msg)
    assert sorted(p.name for p in tiny.iterdir()) == before

def test_interrupt_leaves_nothing_written(tiny, monkeypatch, capsys):
    import prunenet.recover as pr
    from prunenet.cli import main
    calls, real = [], pr.recovery_loss
    def interrupted(*a, **k):
        calls.append(1)
        if len(calls) == 2: raise KeyboardInterrupt              # as Ctrl-C in the second training step
        return real(*a, **k)
    monkeypatch.setattr(pr, 'recovery_loss', interrupted)
    before = sorted(p.name for p in tiny.iterdir())
    assert main(['recover', str(tiny/'pruned'), '--out', str(tiny/'out'), '--dense', str(tiny/'dense'), *SMALL]) == 130
    assert 'interrupted; nothing was written' in capsys.readouterr().err
    assert len(calls) == 2 and sorted(p.name for p in tiny.iterdir()) == before       # no output, no temporary directory
