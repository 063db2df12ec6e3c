"""The paper's comparison on the default model: every method at the paper's nominal ratios and at equal parameter counts.

Rows: dense; random units; `paper` (authors' numerics, and exact); the default (`selfgen` + refit) and the default +
recovery; the calibrated reference + refit; the peers that use data, FLAP (with its bias), Wanda-sp and LLM-Pruner's
Taylor importance, each at this project's calibration budget (16 x 256 tokens) and at its authors' (notebook 08c);
SliceGPT run by its own code (`bench/slicegpt.py`, read from its JSON). The authors' budgets are capped at 256 x 128
tokens (MAX_TOKENS), the most this 2-core machine allows in the time: FLAP's own is 1024 x 128, four times that. Columns: parameters removed (% of the whole
model, counted on the saved model), held-out perplexity (test split, 20 windows of 256 tokens; median over seeds),
the offline BIG-bench suite's average (50 test items per task; mean and sd over seeds, and the binomial standard
error of one run), prefill and decode speed on this CPU (one thread, batch 1; one measurement per architecture).

The runs at the nominal ratios are `prunenet.ablations.zero_shot_runs`'s, kept in bench/results/zeroshot.json: the
rows that file already holds (the project's own methods, measured before) are read back, the peers' rows are added.
The equal-size runs (FFN pruning at the ratio whose removed parameters match SliceGPT's 30 % slicing) go to
bench/results/peers_equal_size.json. Everything is written to bench/results/peers.json and the figure to
bench/results/peers.png; `--markdown` prints the tables for RESULTS.md.

    python bench/peers.py [--slicegpt bench/results/slicegpt.json] [--markdown]
"""
import argparse, copy, json, math, platform, tempfile, time
from pathlib import Path
import pandas as pd, torch

RESULTS = Path(__file__).resolve().parent/'results'

MAX_TOKENS = 256 * 128     # the most calibration text a run reads here: FLAP's own 1024 x 128 would take half an hour per run

def peer_methods() -> dict:
    "label: (mode, settings, seeded) for the peers, at this project's budget and at their authors' (zero_shot_runs's format)."
    from prunenet.peers import AUTHOR_BUDGETS
    names = {'flap': 'FLAP', 'wanda-sp': 'Wanda-sp', 'taylor': 'LLM-Pruner Taylor'}
    out = {}
    for mode, name in names.items():
        b = dict(AUTHOR_BUDGETS[mode])
        b['calib_windows'] = min(b['calib_windows'], MAX_TOKENS // b['calib_len'])
        out[f'{name} (uses data)'] = (mode, {}, False)
        a = AUTHOR_BUDGETS[mode]
        cap = '' if b == a else f"; theirs {a['calib_windows']} x {a['calib_len']}"
        out[f"{name}, {b['calib_windows']} x {b['calib_len']} tokens (authors' budget{cap}; uses data)"] = (mode, b, False)
    return out

def architecture(mode:str, ratio:float) -> str:
    "Runs with the same architecture share parameter counts and speed: FLAP's bias adds parameters."
    return 'dense' if ratio == 0 else f"{'ffn+bias' if mode == 'flap' else 'ffn'}@{ratio}"

def measure_architectures(model, tok, archs, threads:int=1) -> dict:
    "Parameters (counted on the saved and reloaded model) and prefill/decode tokens/s at batch 1, for each architecture."
    from transformers import AutoModelForCausalLM
    from prunenet.compress import compress, save_compressed
    from prunenet.evaluate import measure_speed
    from prunenet.adapters import param_count
    torch.set_num_threads(threads)
    out = {}
    for a in archs:
        with tempfile.TemporaryDirectory() as d:
            if a == 'dense': m = model
            else:
                kind, r = a.split('@'); r = float(r)
                mode = 'flap' if kind == 'ffn+bias' else 'random'
                res = compress(copy.deepcopy(model), r, mode, tokenizer=tok, progress=False)
                save_compressed(res, tok, Path(d)/'m'); m = AutoModelForCausalLM.from_pretrained(Path(d)/'m').eval()
            speed = {x['metric']: x['value'] for x in measure_speed(m, tok, batch_sizes=(1,), reps=5)}
            out[a] = dict(params=param_count(m), prefill_tok_s=speed['prefill_tok_s_bs1'], decode_tok_s=speed['decode_tok_s_bs1'])
        print(a, out[a], flush=True)
    return out

def table(runs:pd.DataFrame, archs:dict, slicegpt:dict=None, recovery:list=None) -> pd.DataFrame:
    "One row per (method, ratio): removed %, perplexity, suite average with its noise, speed; the default's rank per column."
    dense_params = archs['dense']['params']
    rows = []
    for (m, r), g in runs.groupby(['method', 'ratio'], sort=False):
        a = archs[architecture(g['mode'].iloc[0], r)]
        avg = g['average'] * 100
        rows.append(dict(method=m, ratio=r, removed_pct=100 * (1 - a['params'] / dense_params), params=a['params'],
                         ppl=g['ppl'].median(), ppl_min=g['ppl'].min(), ppl_max=g['ppl'].max(), bigbench=avg.mean(),
                         bigbench_sd=avg.std() if len(g) > 1 else float('nan'),
                         bigbench_se=100 * math.sqrt(g['average'].mean() * (1 - g['average'].mean()) / 200), seeds=len(g),
                         prefill_tok_s=a['prefill_tok_s'], decode_tok_s=a['decode_tok_s'], source='zero_shot_runs'))
    for rec in recovery or []:
        rows.append(dict(method='default + recovery (distillation, no data)', ratio=rec['ratio'], removed_pct=rows_removed(rows, rec['ratio']),
                         params=None, ppl=rec['ppl'], ppl_min=rec['ppl'], ppl_max=rec['ppl'],
                         bigbench=rec['bigbench'] * 100 if rec.get('bigbench') is not None else float('nan'), bigbench_sd=float('nan'),
                         bigbench_se=float('nan'), seeds=1, prefill_tok_s=archs[architecture('selfgen', rec['ratio'])]['prefill_tok_s'],
                         decode_tok_s=archs[architecture('selfgen', rec['ratio'])]['decode_tok_s'], source='recover_default.json'))
    for s in (slicegpt or {}).get('runs', []):
        rows.append(dict(method=f"SliceGPT ({s['calibration']})", ratio=s['slicing'], removed_pct=100 * (1 - s['params'] / dense_params),
                         params=s['params'], ppl=s['ppl'], ppl_min=s['ppl'], ppl_max=s['ppl'],
                         bigbench=100 * s['bigbench'] if s.get('bigbench') is not None else float('nan'), bigbench_sd=float('nan'),
                         bigbench_se=float('nan'), seeds=1, prefill_tok_s=s.get('prefill_tok_s', float('nan')),
                         decode_tok_s=s.get('decode_tok_s', float('nan')), source='slicegpt.json (its own code)'))
    return pd.DataFrame(rows)

def rows_removed(rows, ratio):
    return next((x['removed_pct'] for x in rows if x['ratio'] == ratio and x['method'].startswith('selfgen (default')), float('nan'))

def ranks(t:pd.DataFrame, default='selfgen (default: + refit)') -> pd.DataFrame:
    "The default's rank at each ratio among the pruned rows there (1 = best): perplexity (lower), suite average (higher)."
    out = []
    for r, g in t[t.method != 'dense'].groupby('ratio'):
        if default not in set(g.method): continue
        d = g[g.method == default].iloc[0]
        out.append(dict(ratio=r, rows=len(g), ppl_rank=int((g.ppl < d.ppl).sum()) + 1,
                        bigbench_rank=int((g.bigbench > d.bigbench).sum()) + 1))
    return pd.DataFrame(out)

def figure(t:pd.DataFrame, path):
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt, seaborn as sns
    d = t[t.method != 'dense'].copy()
    d['family'] = d.method.str.replace(r", authors' budget.*", " (authors' budget)", regex=True)
    fig, ax = plt.subplots(figsize=(8, 4.6))
    sns.lineplot(d.sort_values('removed_pct'), x='removed_pct', y='ppl', hue='family', marker='o', ax=ax)
    dense = t[t.method == 'dense'].ppl.iloc[0]
    ax.axhline(dense, color='k', ls='--', lw=1, label='dense')
    ax.set(yscale='log', xlabel='parameters removed (% of the whole model)', ylabel='perplexity (test split, median over seeds)',
           title='SmolLM2-135M: held-out perplexity against parameters removed')
    ax.legend(fontsize=7, frameon=False, loc='upper left', bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout(); fig.savefig(path, dpi=120)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--slicegpt', default=str(RESULTS/'slicegpt.json'))
    ap.add_argument('--ratios', type=float, nargs='+', default=[0.2, 0.25, 0.3])
    ap.add_argument('--markdown', action='store_true')
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from prunenet.models import load_model
    from prunenet.ablations import zero_shot_runs, TABLE_METHODS, suite_chance
    model, tok = load_model()
    t0 = time.perf_counter()
    methods = TABLE_METHODS | peer_methods()
    runs = zero_shot_runs(model, tok, a.ratios, (0, 1, 2), methods=methods, results=RESULTS/'zeroshot.json', progress=False)
    sg = json.loads(Path(a.slicegpt).read_text()) if Path(a.slicegpt).exists() else None
    equal = None
    if sg and sg.get('ffn_ratio_matching_30pct'):
        r_eq = round(float(sg['ffn_ratio_matching_30pct']), 4)
        eq_methods = {k: v for k, v in methods.items() if k in ('selfgen (default: + refit)', 'calibrated + refit (uses data)', 'random units')
                      or (v[0] in ('flap', 'wanda-sp', 'taylor') and not v[1])}
        equal = zero_shot_runs(model, tok, (r_eq,), (0, 1, 2), methods=eq_methods, results=RESULTS/'peers_equal_size.json', progress=False)
    modes = {lbl: spec[0] for lbl, spec in methods.items()}
    allruns = pd.concat([runs] + ([equal] if equal is not None else []), ignore_index=True)
    allruns['mode'] = allruns.method.map(lambda m: modes.get(m, 'dense'))
    archs = measure_architectures(model, tok, sorted({architecture(m, r) for m, r in zip(allruns['mode'], allruns.ratio)}), a.threads)
    rec = json.loads((RESULTS/'recover_default.json').read_text())['runs']
    recovery = [x for x in rec if x['mode'] == 'selfgen' and x['recipe'] == 'selfgen (kd)']
    t = table(allruns, archs, sg, recovery)
    rk = ranks(t)
    chance = suite_chance(50)
    out = dict(settings=dict(ratios=a.ratios, seeds=[0, 1, 2], items=50, windows=20, threads=a.threads, chance=chance,
                             slicegpt=sg and {k: sg.get(k) for k in ('commit', 'versions', 'note')}),
               machine=dict(machine=platform.machine(), torch=torch.__version__, cpu_count=torch.get_num_threads()),
               seconds=time.perf_counter() - t0, architectures=archs, table=t.to_dict('records'), default_ranks=rk.to_dict('records'))
    (RESULTS/'peers.json').write_text(json.dumps(out, indent=1, default=float) + '\n')
    figure(t, RESULTS/'peers.png')
    show = t.drop(columns=['params', 'source']).round(2)
    print(show.to_markdown(index=False) if a.markdown else show.to_string(index=False))
    print(rk.to_markdown(index=False) if a.markdown else rk.to_string(index=False))

if __name__ == '__main__': main()
