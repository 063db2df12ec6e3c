"Streaming compression of a sharded checkpoint: the same output as the in-memory path on the default model; bad input."
import copy, json
from pathlib import Path
import pytest, torch
from safetensors.torch import load_file
from prunenet.core import PrunenetError

POLICY = 'prunenet_policy.safetensors'

def _tensors(d):
    "Every model tensor of the checkpoint in `d`, whatever its sharding."
    out = {}
    for f in sorted(Path(d).glob('*.safetensors')):
        if f.name != POLICY: out.update(load_file(f))
    return out

@pytest.mark.kernels
def test_streaming_equals_in_memory_on_default_model(default_model, tmp_path):
    from transformers import AutoModelForCausalLM
    from prunenet.models import make_serializable
    from prunenet.compress import compress, save_compressed
    from prunenet.streaming import compress_checkpoint, INDEX_FILE
    model, tok = default_model
    model = copy.deepcopy(model)                     # the session's model stays dense for other tests
    src = tmp_path/'smol'
    make_serializable(model).save_pretrained(src, max_shard_size='200MB'); tok.save_pretrained(src)
    assert len(list(src.glob('model-*.safetensors'))) >= 3 and (src/INDEX_FILE).exists()

    rep = compress_checkpoint(src, tmp_path/'streamed', 0.1, mode='paper', episodes=2, seed=0, progress=False)
    res = compress(model, 0.1, mode='paper', episodes=2, seed=0, progress=False)
    save_compressed(res, tok, tmp_path/'memory')

    assert rep.k == res.report.k == 1382
    assert rep.keep == res.report.keep
    assert rep.history['episode_rewards'] == res.report.history['episode_rewards']
    assert (rep.params_before, rep.params_after, rep.ffn_params_before, rep.ffn_params_after) == \
           (res.report.params_before, res.report.params_after, res.report.ffn_params_before, res.report.ffn_params_after)
    # Bit-identical, not close: both paths hand the same float32 values, 64-byte aligned (`as_state` copies the
    # memory-mapped, unaligned ones), to the same kernels in the same order (notebook 07).
    a, b = _tensors(tmp_path/'streamed'), _tensors(tmp_path/'memory')
    assert sorted(a) == sorted(b)
    for n in a: assert a[n].dtype == b[n].dtype and torch.equal(a[n], b[n]), n
    pa, pb = load_file(tmp_path/'streamed'/POLICY), load_file(tmp_path/'memory'/POLICY)
    assert sorted(pa) == sorted(pb) and all(torch.equal(pa[n], pb[n]) for n in pa)

    out = tmp_path/'streamed'
    assert json.loads((out/'config.json').read_text())['intermediate_size'] == 1382
    index = json.loads((out/INDEX_FILE).read_text())
    assert index['metadata']['total_size'] == sum(v.numel() * v.element_size() for v in a.values())
    assert (out/'tokenizer.json').read_bytes() == (src/'tokenizer.json').read_bytes()
    assert json.loads((out/'prunenet_report.json').read_text())['keep'] == rep.keep
    m = AutoModelForCausalLM.from_pretrained(out).eval()
    x = torch.randint(0, 1000, (1, 12))
    with torch.no_grad(): assert torch.equal(m(x).logits, res.model(x).logits)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')], 'temporary directory left behind'

def _tiny(d):
    from prunenet.adapters import tiny_model
    tiny_model('llama').save_pretrained(d)
    return d

@pytest.mark.parametrize('case,kw,msg', [
    ('missing', {}, 'does not exist'),
    ('file', {}, 'is not a directory'),
    ('no_config', {}, 'holds no config.json'),
    ('bin_only', {}, 're-save it with save_pretrained'),
    ('broken_index', {}, 'missing shard'),
    ('tiny', dict(ratio=1.0), 'ratio must be in [0, 1)'),
    ('tiny', dict(mode='selfgen'), 'cannot be streamed'),
    ('tiny', dict(mode='magic'), 'unknown mode'),
    ('tiny', dict(compensate='refit'), 'needs the model in memory'),
])
def test_bad_input_one_line_nothing_written(tmp_path, case, kw, msg):
    from prunenet.streaming import compress_checkpoint
    src = tmp_path/'src'
    if case == 'file': src.write_text('not a checkpoint')
    elif case == 'no_config': src.mkdir(); (src/'model.safetensors').write_bytes(b'')
    elif case == 'bin_only': _tiny(src); (src/'model.safetensors').rename(src/'pytorch_model.bin')
    elif case == 'broken_index':
        _tiny(src); (src/'model.safetensors.index.json').write_text(json.dumps({'weight_map': {'x': 'model-00001-of-00002.safetensors'}}))
    elif case == 'tiny': _tiny(src)
    args = dict(ratio=0.2, progress=False) | kw
    with pytest.raises(PrunenetError) as e: compress_checkpoint(src, tmp_path/'out', **args)
    assert msg in str(e.value) and '\n' not in str(e.value), str(e.value)
    assert not (tmp_path/'out').exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')], 'temporary directory left behind'
