"""Dense vs pruned speed and size of the default model: parameters, bytes on disk, prefill and decode
tokens/s at batch 1 and 8 (median of --reps runs after --warmup, CUDA-synchronised on GPU).

Speed depends only on the pruned shape, not on which units were kept, so the pruned models here keep
random units (seed 0) at each ratio.
Usage: python bench/speed.py [--ratios 0.1 0.2 0.3] [--reps 10] [--device cpu] [--out bench/results/speed.json]
"""
import argparse, json, os, platform
from pathlib import Path
import pandas as pd, torch
from prunenet.models import load_model
from prunenet.evaluate import measure_speed, measure_size
from prunenet.compress import compress

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ratios', type=float, nargs='+', default=[0.1, 0.2, 0.3])
    ap.add_argument('--reps', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--prompt-len', type=int, default=128)
    ap.add_argument('--new-tokens', type=int, default=32)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'speed.json'))
    a = ap.parse_args()
    rows = []
    for r in [0.0] + a.ratios:
        m, tok = load_model(device=a.device)
        if r: compress(m, r, mode='random', seed=0, progress=False)
        res = measure_size(m) + measure_speed(m, tok, batch_sizes=(1, 8), prompt_len=a.prompt_len, new_tokens=a.new_tokens,
                                              reps=a.reps, warmup=a.warmup)
        rows += [dict(ratio=r, metric=x['metric'], value=x['value']) for x in res]
        del m
    df = pd.DataFrame(rows).pivot_table(index='metric', columns='ratio', values='value')
    dense = df[0.0]
    print(df.round(1).to_string())
    print('\nrelative to dense:')
    print(df.div(dense, axis=0).round(3).to_string())
    meta = dict(device=a.device, reps=a.reps, warmup=a.warmup, prompt_len=a.prompt_len, new_tokens=a.new_tokens,
                threads=torch.get_num_threads(), cpu_count=os.cpu_count(), torch=torch.__version__, machine=platform.machine(),
                gpu=torch.cuda.get_device_name() if a.device.startswith('cuda') else None)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(dict(settings=meta, results=rows), indent=2) + '\n')

if __name__ == '__main__': main()
