"""The default (`selfgen` + refit) at LLaMA-2-7B shapes on this machine, in memory and offloaded to disk (issue 26).

Uses the random bf16 checkpoint of bench/stream_7b.py (hidden 4096, FFN 11008, 32 layers, 13.5 GB; written if absent).
Random weights cost what trained ones do: every stage's cost depends on the shapes only. Two runs, each in a fresh
process, so that each peak resident memory (ru_maxrss) is the run's own:

1. in memory: the model loaded in bfloat16; the default at ratio 0.3 stage by stage: it writes its text (64 x 128
   tokens by default; saved for run 2), statistics (the Grams, 32 x 11008^2 floats = 15.5 GB, do not fit beside the
   model: they go to disk and are taken layer by layer; the policy then trains on M's diagonal), training, selection,
   slice + refit, save;
2. offloaded: notebook 13a's `compress_offloaded` with a CPU memory cap (--max-memory, default 4GiB), reading the text
   run 1 wrote (`selfgen_text`), as a user with a model larger than memory would.

Each output is checked (shapes from its headers) and deleted. From the measured per-layer costs, a projection for
LLaMA-2-70B, stated as such. Writes bench/results/selfgen_7b.json.

Usage: python bench/selfgen_7b.py [--work /tmp/prunenet-7b] [--ratio 0.3] [--gen-seqs 64] [--gen-tokens 128]
                                  [--max-memory 4GiB] [--only memory|offload] [--clean]
"""
import argparse, datetime, json, os, platform, resource, shutil, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from stream_7b import write_checkpoint, GB

def rss_gb() -> float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GB

def child_memory(src, out, text, a):
    "Run 1, in a fresh process: the default on the model in memory, stage by stage; prints one JSON line."
    import torch
    from transformers import AutoModelForCausalLM
    from prunenet.signals import self_generate, save_own_text
    from prunenet.compress import compress, save_compressed
    stages, peaks = {}, {}
    def mark(name, t0): stages[name] = time.perf_counter() - t0; peaks[name] = rss_gb()
    t0 = time.perf_counter(); model = AutoModelForCausalLM.from_pretrained(src, dtype=torch.bfloat16).eval(); mark('load', t0)
    t0 = time.perf_counter(); ids = self_generate(model, None, a.gen_seqs, a.gen_tokens, seed=0); mark('generate', t0)
    save_own_text(ids, text, model='random LLaMA-2-7B shapes (bench/stream_7b.py)', seed=0)
    t0 = time.perf_counter(); res = compress(model, a.ratio, tokenizer=None, progress=False, seed=0, selfgen_text=str(text)); mark('compress', t0)
    t0 = time.perf_counter(); save_compressed(res, None, out); mark('save', t0)
    r = res.report
    print('RESULT ' + json.dumps(dict(stages=stages, peak_rss_gb_after=peaks, seconds=r.seconds, data=r.data, k=r.k,
                                      params_before=r.params_before, params_after=r.params_after, peak_rss_gb=rss_gb())), flush=True)

def child_offload(src, out, text, a):
    "Run 2, in a fresh process: `compress_offloaded` within the memory cap; prints one JSON line."
    import torch
    from prunenet.offload import compress_offloaded
    t0 = time.perf_counter()
    r = compress_offloaded(src, out, a.ratio, a.max_memory, offload_dir=a.work, progress=False, dtype=torch.bfloat16, seed=0, selfgen_text=str(text))
    print('RESULT ' + json.dumps(dict(wall_s=time.perf_counter() - t0, seconds=r.seconds, data=r.data, k=r.k, placement=r.placement,
                                      params_before=r.params_before, params_after=r.params_after, peak_rss_gb=r.peak_rss_bytes / GB)), flush=True)

def run_child(kind, src, out, text, argv) -> dict:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, __file__, '--child', kind, str(src), str(out), str(text), *argv], capture_output=True, text=True)
    if p.returncode != 0: sys.exit(f'{kind} run failed:\n{p.stderr[-4000:]}')
    res = json.loads(next(l for l in p.stdout.splitlines() if l.startswith('RESULT '))[7:])
    res['process_wall_s'] = time.perf_counter() - t0
    from prunenet.streaming import open_checkpoint
    ck = open_checkpoint(out)
    assert ck.shape.d_ff == res['k'] and ck.shape.n_layers == int(argv[argv.index('--layers') + 1])
    res['output_gb'] = sum(p.stat().st_size for p in Path(out).glob('*.safetensors')) / GB
    shutil.rmtree(out)
    return res

def projection_70b(mem:dict) -> dict:
    "LLaMA-2-70B (80 layers, d 8192, d_ff 28672, 8 KV heads) from the 7B run's per-layer costs, scaled by shapes: a projection."
    L7, L70, d7, d70, f7, f70 = 32, 80, 4096, 8192, 11008, 28672
    layer7 = 4 * d7 * d7 + 3 * d7 * f7                                   # weights per layer (7B: MHA)
    layer70 = 2 * d70 * d70 + 2 * d70 * 1024 + 3 * d70 * f70              # (70B: GQA, 8 x 128 KV)
    s = mem['seconds']
    w = L70 * layer70 / (L7 * layer7)                                    # forward work: weights read per token
    g = L70 * f70 ** 2 / (L7 * f7 ** 2)                                  # Gram work and bytes
    k70 = int(0.7 * f70)
    r = L70 * (f70 * k70 * d70 + k70 ** 3) / (L7 * (f7 * int(0.7 * f7) * d7 + int(0.7 * f7) ** 3))   # refit: G_K W^T and the solve
    return dict(note='a projection from the 7B-shaped run on this CPU, scaling each stage by the shapes; not a measurement',
                weights_gb_bf16=2 * (L70 * layer70 + 2 * 32000 * d70) / GB, gram_files_gb=L70 * f70 ** 2 * 4 / GB,
                generate_s=mem['stages']['generate'] * w, statistics_s=s['forward'] * g, refit_s=s['slice'] * r,
                factors=dict(forward=w, gram=g, refit=r))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--work', default='/tmp/prunenet-7b')
    ap.add_argument('--ratio', type=float, default=0.3)
    ap.add_argument('--gen-seqs', type=int, default=64)
    ap.add_argument('--gen-tokens', type=int, default=128)
    ap.add_argument('--max-memory', default='4GiB', help='CPU memory cap of the offloaded run')
    ap.add_argument('--only', choices=['memory', 'offload'], default=None)
    ap.add_argument('--layers', type=int, default=32, help='fewer layers for a quick smoke test (its results are not written)')
    ap.add_argument('--clean', action='store_true', help='delete the checkpoint and the text at the end')
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'selfgen_7b.json'))
    ap.add_argument('--child', nargs=4, metavar=('KIND', 'SRC', 'OUT', 'TEXT'), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        kind, src, out, text = a.child
        return (child_memory if kind == 'memory' else child_offload)(src, out, text, a)
    import torch
    from prunenet.core import machine
    work = Path(a.work)
    src = work/('llama2-7b-random' if a.layers == 32 else f'llama2-7b-random-{a.layers}l')
    text = work/f'own_text_7b_{a.layers}l.safetensors'
    marker = src/'.complete'
    if not (marker.exists() and json.loads(marker.read_text()).get('layers') == a.layers):
        if src.exists(): shutil.rmtree(src)
        print(f'writing {src} ...', flush=True); write_checkpoint(src, a.layers)
    gen = json.loads(marker.read_text())
    argv = ['--layers', str(a.layers), '--ratio', str(a.ratio), '--gen-seqs', str(a.gen_seqs), '--gen-tokens', str(a.gen_tokens), '--max-memory', a.max_memory, '--work', str(work)]
    prev = json.loads(Path(a.out).read_text()) if Path(a.out).exists() else {}
    res = dict(prev, model='random LLaMA-2-7B shapes, 32 layers, bf16 (bench/stream_7b.py)', checkpoint_gb=gen['bytes'] / GB, ratio=a.ratio,
               text=f'{a.gen_seqs} x {a.gen_tokens} tokens the model wrote (seed 0)', torch=torch.__version__, torch_threads=torch.get_num_threads(),
               cpu_count=os.cpu_count(), cpu=machine()['cpu'], python=platform.python_version(),
               date=datetime.date.today().isoformat())
    if a.only in (None, 'memory'):
        print('run 1: in memory ...', flush=True)
        res['memory'] = run_child('memory', src, work/'out-memory', text, argv)
        if a.layers == 32: res['projection_70b'] = projection_70b(res['memory'])
        print(json.dumps(res['memory'], indent=1), flush=True)
    if a.only in (None, 'offload'):
        if not text.exists(): sys.exit(f'{text} is missing: run the in-memory run first (it writes the text)')
        print(f'run 2: offloaded within {a.max_memory} ...', flush=True)
        res['offload'] = dict(run_child('offload', src, work/'out-offload', text, argv), max_memory=a.max_memory)
        print(json.dumps(res['offload'], indent=1), flush=True)
    if a.layers == 32: Path(a.out).write_text(json.dumps(res, indent=2) + '\n')
    else: print(f'{a.layers} layers: a smoke test, not written')
    if a.clean: shutil.rmtree(src); text.unlink(missing_ok=True)
    if a.layers == 32: print(f'written to {a.out}')

if __name__ == '__main__': main()
