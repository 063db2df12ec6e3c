"""Streaming compression at LLaMA-2-7B scale: wall time, time per episode and peak resident memory.

Writes a randomly initialised checkpoint with LLaMA-2-7B's shapes (hidden 4096, FFN 11008, 32 layers, 32 heads,
vocabulary 32000, bf16, about 13.5 GB in shards of about 2 GB) into --work, one shard at a time so the model is
never held in memory, then runs prunenet.streaming.compress_checkpoint on it in a child process (so the peak
resident memory measured is the compression's own) and checks the output's shapes from its headers.
Random weights cost the same to compress as trained ones: every step's cost depends only on the shapes.

Usage: python bench/stream_7b.py [--work /tmp/prunenet-7b] [--ratio 0.3] [--episodes 2] [--layers 32] [--clean]
                                 [--out bench/results/stream_7b.json]
The generated checkpoint is reused by later runs unless --clean, which deletes it at the end; the compressed
output is always deleted after it has been checked.
"""
import argparse, json, os, platform, resource, shutil, subprocess, sys, time, datetime
from pathlib import Path

SHAPE = dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
             num_key_value_heads=32, vocab_size=32000, max_position_embeddings=4096, rms_norm_eps=1e-5,
             tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
GB = 1e9

def tensor_plan(layers:int):
    "`(config, [(name, shape), ...])` of a LLaMA-2-7B-shaped model, read from a model built on the meta device."
    import torch
    from transformers import LlamaConfig, AutoModelForCausalLM
    cfg = LlamaConfig(**{**SHAPE, 'num_hidden_layers': layers})
    with torch.device('meta'): m = AutoModelForCausalLM.from_config(cfg)
    return cfg, [(n, tuple(t.shape)) for n, t in m.state_dict().items()]

def make_tensor(name, shape, seed):
    "Norm weights are ones; everything else N(0, 0.02^2), from a generator seeded per tensor; bf16."
    import torch
    if name.endswith('norm.weight'): return torch.ones(shape, dtype=torch.bfloat16)
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g) * 0.02).to(torch.bfloat16)

def write_checkpoint(d:Path, layers:int, shard_bytes:float=2 * GB, seed:int=0) -> dict:
    "Write the checkpoint shard by shard (only one shard's tensors exist at a time); returns what was written."
    import math, torch
    from safetensors.torch import save_file
    cfg, plan = tensor_plan(layers)
    shards, cur, size = [], [], 0
    for name, shape in plan:
        nb = 2 * math.prod(shape)
        if cur and size + nb > shard_bytes: shards.append(cur); cur, size = [], 0
        cur.append((name, shape)); size += nb
    shards.append(cur)
    d.mkdir(parents=True, exist_ok=True)
    weight_map, total, t0 = {}, 0, time.perf_counter()
    for i, items in enumerate(shards):
        fname = f'model-{i + 1:05d}-of-{len(shards):05d}.safetensors'
        tensors = {n: make_tensor(n, s, seed + j) for j, (n, s) in enumerate(items, start=sum(len(x) for x in shards[:i]))}
        save_file(tensors, str(d/fname), metadata={'format': 'pt'})
        total += sum(t.numel() * 2 for t in tensors.values())
        weight_map.update({n: fname for n in tensors})
        del tensors
        print(f'  wrote {fname} ({i + 1}/{len(shards)}, {time.perf_counter() - t0:.0f} s)', flush=True)
    cfg.dtype = torch.bfloat16
    cfg.save_pretrained(d)
    (d/'model.safetensors.index.json').write_text(json.dumps({'metadata': {'total_size': total}, 'weight_map': weight_map}, indent=2))
    info = dict(layers=layers, seed=seed, shards=len(shards), bytes=total, params=total // 2, seconds=time.perf_counter() - t0)
    (d/'.complete').write_text(json.dumps(info))
    return info

def child(src, out, ratio, episodes):
    "Run in a fresh process: compress, then print the report's summary as one JSON line."
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    from prunenet.streaming import compress_checkpoint
    t0 = time.perf_counter()
    # exact numerics: the authors' float16 numerics need the literal O(d_ff^2 d) policy product, impractical on a CPU at 7B
    rep = compress_checkpoint(src, out, ratio, episodes=episodes, seed=0, progress=False, numerics='exact')
    summary = rep.summary()
    summary.update(wall_s=time.perf_counter() - t0, episode_seconds=rep.history['episode_seconds'])
    print('REPORT ' + json.dumps(summary, default=str), flush=True)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--work', default='/tmp/prunenet-7b')
    ap.add_argument('--ratio', type=float, default=0.3)
    ap.add_argument('--episodes', type=int, default=2, help='policy episodes (default 2 on CPU: each is 32 eigenproblems of 4096 x 4096)')
    ap.add_argument('--layers', type=int, default=32, help='fewer layers for a quick smoke test')
    ap.add_argument('--clean', action='store_true', help='delete the generated checkpoint at the end')
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'stream_7b.json'))
    ap.add_argument('--child', nargs=2, metavar=('SRC', 'OUT'), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child: return child(a.child[0], a.child[1], a.ratio, a.episodes)

    import torch
    work = Path(a.work); src, dst = work/'llama2-7b-random', work/f'llama2-7b-random-{a.ratio}'
    marker = src/'.complete'
    reuse = marker.exists() and json.loads(marker.read_text()).get('layers') == a.layers
    _, plan = tensor_plan(a.layers)
    need = sum(2 * __import__('math').prod(s) for _, s in plan)
    free = shutil.disk_usage(work if work.exists() else work.parent).free
    if free < (0 if reuse else need) + need + 1 * GB:
        sys.exit(f'not enough disk space in {work}: need about {((0 if reuse else need) + need) / GB:.1f} GB, {free / GB:.1f} GB free')
    print(f'disk: {free / GB:.1f} GB free in {work if work.exists() else work.parent}; checkpoint {need / GB:.1f} GB')
    if reuse: gen = json.loads(marker.read_text()); print(f'reusing {src}')
    else:
        if src.exists(): shutil.rmtree(src)
        print(f'writing {src} ...'); gen = write_checkpoint(src, a.layers)
    if dst.exists(): shutil.rmtree(dst)

    load_start = os.getloadavg()
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, __file__, '--child', str(src), str(dst), '--ratio', str(a.ratio), '--episodes', str(a.episodes)],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    load_end = os.getloadavg()
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if r.returncode != 0: sys.exit(f'compression failed:\n{r.stderr[-3000:]}')
    rep = json.loads(next(l for l in r.stdout.splitlines() if l.startswith('REPORT '))[7:])

    from prunenet.streaming import open_checkpoint
    ck = open_checkpoint(dst)
    assert ck.shape.d_ff == rep['k'] and json.loads((dst/'config.json').read_text())['intermediate_size'] == rep['k']
    out_bytes = sum(p.stat().st_size for p in dst.glob('model-*.safetensors'))
    shutil.rmtree(dst)
    if a.clean:
        shutil.rmtree(src); print(f'deleted {src}')
        if not any(work.iterdir()): work.rmdir()

    sec = rep['seconds']
    res = dict(
        model=f'random LLaMA-2-7B shapes, {a.layers} layers, bf16', ratio=a.ratio, k=rep['k'], episodes=a.episodes, seed=0,
        mode=rep['settings']['mode'], sampling=rep['settings'].get('sampling'), workers=rep['settings'].get('workers'), checkpoint_gb=gen['bytes'] / GB, shards=gen['shards'], output_gb=out_bytes / GB,
        params_before=rep['params_before'], params_after=rep['params_after'],
        generate_s=gen['seconds'], process_wall_s=wall, compress_wall_s=rep['wall_s'],
        spectra_s=sec['spectra'], train_s=sec['train'], per_episode_s=sec['per_episode'], episode_seconds=rep['episode_seconds'],
        select_s=sec['select'], write_s=sec['write'],
        peak_rss_gb=rep['peak_rss_bytes'] / GB, child_peak_rss_gb=child_peak / GB,
        load_avg_start=load_start, load_avg_end=load_end,   # other jobs on the machine slow every figure above
        torch=torch.__version__, torch_threads=torch.get_num_threads(), cpu_count=os.cpu_count(), machine=platform.machine(),
        python=platform.python_version(), date=datetime.date.today().isoformat())
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2) + '\n')
    print(f"checkpoint {res['checkpoint_gb']:.1f} GB in {res['shards']} shards (written in {res['generate_s']:.0f} s); "
          f"ratio {a.ratio}: k = {res['k']} of {SHAPE['intermediate_size']}, {a.episodes} episodes, seed 0")
    print(f"parameters {res['params_before']:,} -> {res['params_after']:,}; output {res['output_gb']:.1f} GB")
    print(f"compress_checkpoint wall {res['compress_wall_s']:.0f} s (process {wall:.0f} s): spectra {sec['spectra']:.0f} s, "
          f"{res['per_episode_s']:.0f} s per episode, select {sec['select']:.0f} s, write {sec['write']:.0f} s")
    print(f"peak RSS {res['peak_rss_gb']:.2f} GB (ru_maxrss of the compressing process: {res['child_peak_rss_gb']:.2f} GB)")
    print(f'written to {a.out}')

if __name__ == '__main__': main()
