"""The calibration-free default against its references, on held-out text: `prunenet compress --ratio R` (default
mode, the real command, then reloaded from disk) beside random units (3 seeds), the authors' algorithm (`paper`
mode, 3 seeds) and the calibrated reference (activation importance on the calibration split; uses data).

Perplexity: the test split of the offline Wikipedia excerpt (no method sees it), --windows windows of 256 tokens.
The baselines are scored by masking the dropped units in the loaded model (identical to slicing: notebook 03).
Targets (issue 5): default <= 1.15 x calibrated at ratio 0.1 and <= 1.25 x at 0.2.
Usage: python bench/methods.py [--ratios 0.1 0.2] [--seeds 0 1 2] [--windows 40] [--out bench/results/methods.json]
"""
import argparse, json, os, platform, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import pandas as pd, torch
from prunenet.models import load_model
from prunenet.data import wiki_text
from prunenet.evaluate import perplexity
from prunenet.compress import choose_units, DEFAULT_MODE
from prunenet.ablations import masked_perplexity

TARGETS = {0.1: 1.15, 0.2: 1.25}

def cli_default(ratio, seed, out):
    "Run the real command in default mode; returns its wall time."
    exe = Path(sys.executable).parent/'prunenet'
    t0 = time.perf_counter()
    subprocess.run([str(exe), 'compress', '--ratio', str(ratio), '--seed', str(seed), '--out', str(out), '--quiet'], check=True)
    return time.perf_counter() - t0

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ratios', type=float, nargs='+', default=[0.1, 0.2])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--windows', type=int, default=40)
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'methods.json'))
    a = ap.parse_args()
    text = wiki_text('test')
    model, tok = load_model()
    ppl = lambda m: perplexity(m, tok, text, max_windows=a.windows)['perplexity']
    rows = [dict(method='dense', ratio=0.0, seed=0, ppl=ppl(model), seconds=0.0)]
    work = Path(tempfile.mkdtemp(prefix='prunenet-bench-'))
    try:
        for r in a.ratios:
            for s in a.seeds:
                out = work/f'default-{r}-{s}'
                t = cli_default(r, s, out)
                m, _ = load_model(str(out))
                rows.append(dict(method=f'prunenet compress (default: {DEFAULT_MODE})', ratio=r, seed=s, ppl=ppl(m), seconds=t))
                del m; shutil.rmtree(out)
                for mode in ('random', 'paper'):
                    t0 = time.perf_counter(); c = choose_units(model, r, mode, tokenizer=tok, seed=s); t = time.perf_counter() - t0
                    rows.append(dict(method=mode, ratio=r, seed=s, ppl=masked_perplexity(model, tok, c.keep, text, a.windows), seconds=t))
            t0 = time.perf_counter(); c = choose_units(model, r, 'calibrated', tokenizer=tok); t = time.perf_counter() - t0
            rows.append(dict(method='calibrated (uses data)', ratio=r, seed=0, ppl=masked_perplexity(model, tok, c.keep, text, a.windows), seconds=t))
            print(pd.DataFrame(rows).tail(2 * len(a.seeds) + 1).to_string(index=False), flush=True)
    finally: shutil.rmtree(work, ignore_errors=True)
    df = pd.DataFrame(rows)
    g = df[df.method != 'dense'].groupby(['method', 'ratio'], sort=False)['ppl']
    table = pd.DataFrame(dict(median=g.median(), min=g.min(), max=g.max(), runs=g.count())).reset_index()
    cal = table[table.method.str.startswith('calibrated')].set_index('ratio')['median']
    rnd = table[table.method == 'random'].set_index('ratio')['median']
    table['x_calibrated'] = table['median'] / table.ratio.map(cal)
    table['x_random'] = table['median'] / table.ratio.map(rnd)
    print(f"\nperplexity on the test split ({a.windows} windows x 256 tokens); dense {rows[0]['ppl']:.2f}")
    print(table.round(3).to_string(index=False))
    dflt = table[table.method.str.startswith('prunenet compress')].set_index('ratio')
    verdict = {r: bool(dflt.loc[r, 'x_calibrated'] <= TARGETS[r]) for r in a.ratios if r in TARGETS}
    for r, ok in verdict.items():
        print(f"target at ratio {r}: default <= {TARGETS[r]} x calibrated: {dflt.loc[r, 'x_calibrated']:.3f} -> {'met' if ok else 'NOT met'}")
    meta = dict(windows=a.windows, seeds=a.seeds, ratios=a.ratios, threads=torch.get_num_threads(), cpu_count=os.cpu_count(),
                torch=torch.__version__, machine=platform.machine(), targets=verdict)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(dict(meta=meta, runs=rows, table=table.to_dict('records')), indent=1))
    return 0 if all(verdict.values()) else 1

if __name__ == '__main__': sys.exit(main())
