"""One GPU, no network: a LLaMA-2-7B-shaped model with random weights in bf16, policy training (20 episodes) and
slicing at ratio 0.3, time per episode and in total, and dense vs pruned prefill / decode throughput at batch 1 and
16. Prints one table and writes bench/results/gpu_bench.json. Meant to finish in under 8 minutes on an H200-class GPU.

Random weights are enough for timing: cost depends on shapes, not values (perplexity is measured elsewhere).
`--tiny` runs the same steps on a small model, for checking the script on a CPU.
Usage: python bench/gpu_bench.py [--device cuda] [--mode paper] [--episodes 20] [--ratio 0.3] [--tiny]
"""
import argparse, json, os, platform, sys, time
from pathlib import Path
import torch
from transformers import LlamaConfig, AutoModelForCausalLM
from prunenet.adapters import param_count
from prunenet.compress import compress
from prunenet.evaluate import measure_speed

class RandomTokens:
    "Tokenizer stand-in for a random-weight model: random ids below the vocabulary size."
    pad_token_id, eos_token_id, bos_token_id = 0, 2, 1
    def __init__(self, vocab): self.vocab = vocab
    def __call__(self, text, add_special_tokens=False):
        g = torch.Generator().manual_seed(0)
        return type('Enc', (), dict(input_ids=torch.randint(3, self.vocab, (4096,), generator=g).tolist()))

def config(tiny):
    if tiny: return LlamaConfig(hidden_size=256, intermediate_size=688, num_hidden_layers=4, num_attention_heads=4,
                                num_key_value_heads=4, vocab_size=32000, max_position_embeddings=4096)
    return LlamaConfig(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                       num_key_value_heads=32, vocab_size=32000, max_position_embeddings=4096)   # LLaMA-2-7B

def sync(dev):
    if dev.startswith('cuda'): torch.cuda.synchronize()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--mode', default='paper')
    ap.add_argument('--episodes', type=int, default=20)
    ap.add_argument('--ratio', type=float, default=0.3)
    ap.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 16])
    ap.add_argument('--prompt-len', type=int, default=128)
    ap.add_argument('--new-tokens', type=int, default=64)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--tiny', action='store_true')
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'gpu_bench.json'))
    a = ap.parse_args()
    t_all = time.perf_counter()
    cfg = config(a.tiny)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    with torch.device(a.device): model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).eval()
    sync(a.device); t_init = time.perf_counter() - t0
    tok = RandomTokens(cfg.vocab_size)
    # measure_speed clamps a non-positive decode time (generate - prefill) to 1e-9 s; such a figure is not a measurement
    speed = lambda: {r['metric']: (r['value'] if r['value'] < 1e9 else float('nan')) for r in measure_speed(model, tok, tuple(a.batch_sizes), a.prompt_len,
                                                                    a.new_tokens, reps=a.reps, warmup=2)}
    with torch.no_grad(): dense = speed()
    params_dense = param_count(model)
    sync(a.device); t0 = time.perf_counter()
    res = compress(model, a.ratio, a.mode, episodes=a.episodes, seed=0, device=a.device, progress=False)
    sync(a.device); t_compress = time.perf_counter() - t0
    with torch.no_grad(): pruned = speed()
    rep = res.report
    rows = [('parameters', params_dense, param_count(model)), *[(m, dense[m], pruned[m]) for m in dense]]
    print(f"{'LLaMA-2-7B shapes' if not a.tiny else 'tiny LLaMA'}, random bf16 weights, {a.device} "
          f"({torch.cuda.get_device_name() if a.device.startswith('cuda') else platform.processor() or 'cpu'})")
    print(f"mode {a.mode}, ratio {a.ratio}, {a.episodes} episodes: train {rep.seconds['train']:.1f} s "
          f"({(rep.seconds['per_episode'] or 0):.2f} s/episode), select {rep.seconds['select']:.2f} s, "
          f"slice {rep.seconds['slice']:.2f} s, compress total {t_compress:.1f} s; model init {t_init:.1f} s")
    print(f"{'metric':<22}{'dense':>16}{'pruned':>16}{'ratio':>8}")
    for m, d, p in rows: print(f"{m:<22}{d:>16,.1f}{p:>16,.1f}{p / d:>8.3f}")
    wall = time.perf_counter() - t_all
    print(f"wall {wall:.0f} s")
    out = dict(device=a.device, gpu=torch.cuda.get_device_name() if a.device.startswith('cuda') else None, tiny=a.tiny,
               mode=a.mode, ratio=a.ratio, episodes=a.episodes, seconds=dict(rep.seconds, init=t_init, compress=t_compress, wall=wall),
               table=[dict(metric=m, dense=d, pruned=p) for m, d, p in rows], torch=torch.__version__,
               settings=dict(batch_sizes=a.batch_sizes, prompt_len=a.prompt_len, new_tokens=a.new_tokens, reps=a.reps))
    if not a.tiny:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(out, indent=1))
    return 0

if __name__ == '__main__': sys.exit(main())
