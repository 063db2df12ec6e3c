"""The round trip through llama.cpp itself (issue 24), where a build of it is present: `tools/llamacpp.sh` puts one in
prunenet's cache (about 27 minutes on 2 cores, so CI does not build it; there, tests/test_export.py's round trips through
transformers' GGUF reader stand in). Both sides run here, side by side, on this machine: nothing recorded elsewhere."""
import subprocess
from pathlib import Path
import pytest, torch
from prunenet.core import cache_dir

BIN = cache_dir()/'llama.cpp'/'bin'
pytestmark = pytest.mark.skipif(not (BIN/'llama-completion').exists(), reason=f'no llama.cpp build in {BIN} (tools/llamacpp.sh builds one)')
PROMPTS = ['The capital of France is', 'In 1905, Albert Einstein']

def completion(gguf, prompt, n):
    r = subprocess.run([str(BIN/'llama-completion'), '-m', str(gguf), '-p', prompt, '-n', str(n), '--temp', '0', '-no-cnv', '--no-display-prompt',
                        '-t', '2', '-s', '0', '--simple-io', '--no-warmup'], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.replace('[end of text]', '')

def test_pruned_model_in_llama_cpp(default_model, tmp_path):
    "The default model pruned at 0.3 in whole q8_0 blocks: llama.cpp loads its f32, f16 and q8_0 files; the f32 file continues greedily as transformers does."
    import copy
    from prunenet.compress import compress
    from prunenet.export import export_model
    model, tok = copy.deepcopy(default_model[0]), default_model[1]
    compress(model, 0.3, 'random', tokenizer=tok, progress=False, seed=0, multiple_of=32)
    files = {ty: export_model(model, tok, tmp_path/f'p-{ty}.gguf', ty) for ty in ('f32', 'f16', 'q8_0')}
    assert not files['q8_0'].wider, files['q8_0'].wider                       # whole blocks: no tensor falls back to F16
    for p in PROMPTS:
        ids = tok(p, return_tensors='pt').input_ids
        with torch.no_grad(): out = model.generate(ids, max_new_tokens=16, do_sample=False, pad_token_id=tok.eos_token_id)
        assert completion(files['f32'].path, p, 16).strip() == tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True).strip()
    for ty in ('f16', 'q8_0'): assert completion(files[ty].path, PROMPTS[0], 8).strip()
