"""Widths that runtimes can use (issue 24): the default keeping the paper's floor((1 - r) d_ff) units per layer, or a
multiple of N (32: the block of llama.cpp's q8_0 and q4_0; 64; 256: the block of its k-quants such as q4_K), rounded to
the nearest multiple or down (`compress --multiple-of N --rounding nearest|down`).

For each ratio, N and rounding: the width kept; held-out perplexity of the default (`selfgen` + refit, run through
`prunenet.ablations.run_grid`; the self-generated text is written once per seed and shared by every width, as
`compress` would write the same text for each); parameters removed (% of the whole model); the bytes of the GGUF
file `prunenet export` writes at f16 and q8_0, and how many tensors fell back to F16 because their rows fit no q8_0
block; PyTorch prefill and decode tokens/s at batch 1 on this CPU. Sizes and speed depend only on the shapes, so they
are measured once per width on a copy sliced to that width (random units), not on every seed's model.

llama.cpp's own speed and k-quant sizes need its build (tools/llamacpp.sh) and are not measured here.

    OMP_NUM_THREADS=2 python bench/widths.py [--ratios 0.2 0.25 0.3] [--seeds 0] [--windows 20]
"""
import argparse, copy, json, os, platform, tempfile, time
from pathlib import Path
import pandas as pd, torch

RESULTS = Path(__file__).resolve().parent/'results'

def configs(ratios, multiples=(1, 32, 64, 256), roundings=('nearest', 'down')):
    "(ratio, N, rounding) for every combination; N = 1 once (the paper's floor: rounding does not apply)."
    return [(r, n, rd) for r in ratios for n in multiples for rd in (roundings[:1] if n == 1 else roundings)]

def shape_costs(model, tok, k:int, reps:int=5) -> dict:
    "Parameters, GGUF bytes at f16 and q8_0 (and tensors stored wider than asked), PyTorch speed: for `model` sliced to k units."
    from prunenet.adapters import ffn_shape, param_count, slice_ffn_
    from prunenet.baselines import random_keep
    from prunenet.export import export_model
    from prunenet.evaluate import measure_speed
    m = copy.deepcopy(model)
    if k < ffn_shape(m).d_ff: slice_ffn_(m, random_keep(m, k, seed=0))
    out = dict(params=param_count(m))
    with tempfile.TemporaryDirectory() as d:
        for ty in ('f16', 'q8_0'):
            r = export_model(m, tok, Path(d)/f'{ty}.gguf', ty)
            out[f'{ty}_bytes'], out[f'{ty}_wider'] = r.bytes, len(r.wider)
            Path(r.path).unlink()
    speed = {x['metric']: x['value'] for x in measure_speed(m, tok, batch_sizes=(1,), reps=reps)}
    out.update(prefill_tok_s=speed['prefill_tok_s_bs1'], decode_tok_s=speed['decode_tok_s_bs1'])
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--ratios', type=float, nargs='+', default=[0.2, 0.25, 0.3])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0])
    ap.add_argument('--windows', type=int, default=20)
    ap.add_argument('--out', default=str(RESULTS/'widths.json'))
    a = ap.parse_args()
    from prunenet.models import load_model
    from prunenet.adapters import ffn_shape, n_keep
    from prunenet.data import wiki_text
    from prunenet.ablations import Run, run_grid
    from prunenet.compress import default_mode
    model, tok = load_model()
    d_ff, text, t0 = ffn_shape(model).d_ff, wiki_text('test'), time.perf_counter()
    cfgs = configs(a.ratios)
    widths = {c: n_keep(c[0], d_ff, c[1], c[2]) for c in cfgs}
    # one run per (ratio, width, seed): configurations that keep the same width are the same run
    distinct = {}
    for c, k in widths.items(): distinct.setdefault((c[0], k), c)
    runs = [Run(f'{r} k={k}', default_mode(), r, s, overrides=dict(multiple_of=c[1], rounding=c[2]))
            for (r, k), c in distinct.items() for s in a.seeds]
    grid = run_grid(model, tok, runs, text, windows=a.windows, progress=False)
    grid['k'] = [n_keep(r.ratio, d_ff, r.overrides['multiple_of'], r.overrides['rounding']) for r in runs]
    ppl = grid.groupby(['ratio', 'k']).ppl.agg(['median', 'min', 'max'])
    costs = {k: shape_costs(model, tok, k) for k in sorted({d_ff, *widths.values()})}
    dense = costs[d_ff]
    rows = []
    for (r, n, rd), k in widths.items():
        c, p = costs[k], ppl.loc[(r, k)]
        rows.append(dict(ratio=r, multiple_of=n, rounding=rd if n > 1 else '-', k=k, removed_pct=100 * (1 - c['params'] / dense['params']),
                         ppl=p['median'], ppl_min=p['min'], ppl_max=p['max'], f16_MiB=c['f16_bytes'] / 2**20, q8_0_MiB=c['q8_0_bytes'] / 2**20,
                         q8_0_f16_tensors=c['q8_0_wider'], q8_0_vs_dense=c['q8_0_bytes'] / dense['q8_0_bytes'],
                         prefill_vs_dense=c['prefill_tok_s'] / dense['prefill_tok_s'], decode_vs_dense=c['decode_tok_s'] / dense['decode_tok_s']))
    t = pd.DataFrame(rows)
    with pd.option_context('display.width', 200, 'display.max_columns', 30): print(t.round(3).to_string(index=False))
    out = dict(about=__doc__.split('\n\n')[0], mode=default_mode(), seeds=a.seeds, windows=a.windows, d_ff=d_ff,
               dense=dict(params=dense['params'], f16_MiB=dense['f16_bytes'] / 2**20, q8_0_MiB=dense['q8_0_bytes'] / 2**20,
                          prefill_tok_s=dense['prefill_tok_s'], decode_tok_s=dense['decode_tok_s']),
               rows=rows, runs=grid.drop(columns=['policy']).to_dict('records'), costs={str(k): v for k, v in costs.items()},
               seconds=time.perf_counter() - t0,
               machine=dict(threads=torch.get_num_threads(), cpu_count=os.cpu_count(), torch=torch.__version__, machine=platform.machine(),
                            processor=platform.processor()))
    Path(a.out).write_text(json.dumps(out, indent=1) + '\n')
    print(f'wrote {a.out} ({out["seconds"]:.0f} s)')

if __name__ == '__main__': main()
