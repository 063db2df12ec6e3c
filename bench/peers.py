"""The paper's comparison on the default model: every method at the paper's nominal ratios, and SliceGPT at equal size.

Rows: dense; random units; `paper` (authors' numerics, and exact); the default (`selfgen` + refit) and the default +
recovery; the calibrated reference + refit; the peers that use data, FLAP (with its bias), Wanda-sp and LLM-Pruner's
Taylor importance (notebook 08c) at this project's calibration budget (16 x 256 tokens), and at 0.3 also at their
authors' budgets, capped at 256 x 128 tokens (MAX_TOKENS: FLAP's own 1024 x 128 is four times what this 2-core
machine reads in the time); SliceGPT run by its own code (`bench/slicegpt.py`, read from its JSON) at the nominal
slicing ratios and at the slicing ratios whose parameter counts match FFN pruning at 0.2, 0.25 and 0.3.
Columns: parameters removed (% of the whole model, counted on the saved model: FLAP's bias and SliceGPT's shortcut
matrices and untied head included), held-out perplexity (test split, 20 windows of 256 tokens; median over seeds), the
offline BIG-bench suite's average (50 test items per task; mean and sd over seeds, and the binomial standard error of
one run), prefill and decode speed on this CPU (one thread, batch 1; one measurement per architecture) and decode
speed relative to dense measured the same way (SliceGPT's in its own venv, against its own dense run).

The project's own rows are `prunenet.ablations.zero_shot_runs`'s in bench/results/zeroshot.json, read back; the peers'
runs go to bench/results/peers_runs.json (this project's budget) and bench/results/peers_authors.json (theirs), whose
dense row is zeroshot.json's (the same computation) rather than a second run. Everything is written to
bench/results/peers.json and the figure to bench/results/peers.png; `--markdown` prints the tables for RESULTS.md.

`--perplexity-only`, for machines where BIG-bench's archive cannot be had (the package index this project's machines
reach stopped serving it in December 2026): every row, ours included, is chosen and scored here on held-out text alone
(`prunenet.ablations.run_grid`), kept in bench/results/peers_ppl.json; the table has no BIG-bench column.

    OMP_NUM_THREADS=1 python bench/peers.py [--slicegpt bench/results/slicegpt.json] [--perplexity-only] [--markdown]
"""
import argparse, copy, json, math, platform, tempfile, time
from pathlib import Path
import pandas as pd, torch

RESULTS = Path(__file__).resolve().parent/'results'

MAX_TOKENS = 256 * 128     # the most calibration text a run reads here: FLAP's own 1024 x 128 would take half an hour per run

def peer_methods(authors:bool=False) -> dict:
    "label: (mode, settings, seeded) for the peers at this project's budget, or (`authors`) at their authors' (zero_shot_runs's format)."
    from prunenet.peers import AUTHOR_BUDGETS
    names = {'flap': 'FLAP', 'wanda-sp': 'Wanda-sp', 'taylor': 'LLM-Pruner Taylor'}
    out = {}
    for mode, name in names.items():
        b = dict(AUTHOR_BUDGETS[mode])
        b['calib_windows'] = min(b['calib_windows'], MAX_TOKENS // b['calib_len'])
        a = AUTHOR_BUDGETS[mode]
        cap = '' if b == a else f"; theirs {a['calib_windows']} x {a['calib_len']}"
        key = f"{name} (uses data)" if not authors else f"{name}, {b['calib_windows']} x {b['calib_len']} tokens (authors' budget{cap}; uses data)"
        out[key] = (mode, b if authors else {}, False)
    return out

EQUAL_SIZE = ('selfgen (default: + refit)', 'calibrated + refit (uses data)', 'FLAP (uses data)')   # run at SliceGPT's size

def ffn_ratio_matching(model, slicegpt:dict, slicing:float) -> float:
    "The FFN ratio that removes as many parameters as SliceGPT at `slicing` (its shortcuts and untied head counted), to 4 digits."
    from prunenet.adapters import param_count, ffn_param_count
    x = next((x for x in slicegpt['runs'] if x['kind'] == 'slice' and x['sparsity'] == slicing and 'match_ffn' not in x), None)
    return x and round((param_count(model) - x['params']) / ffn_param_count(model), 4)

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

def table(runs:pd.DataFrame, archs:dict, slicegpt:dict=None, recovery:list=None, bigbench:bool=True) -> pd.DataFrame:
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
                         prefill_tok_s=a['prefill_tok_s'], decode_tok_s=a['decode_tok_s'],
                         decode_vs_dense=a['decode_tok_s'] / archs['dense']['decode_tok_s'], source='prunenet runs'))
    for rec in recovery or []:
        rows.append(dict(method='default + recovery (distillation, no data)', ratio=rec['ratio'], removed_pct=rows_removed(rows, rec['ratio']),
                         params=None, ppl=rec['ppl'], ppl_min=rec['ppl'], ppl_max=rec['ppl'],
                         bigbench=rec['bigbench'] * 100 if bigbench and rec.get('bigbench') is not None else float('nan'), bigbench_sd=float('nan'),
                         bigbench_se=float('nan'), seeds=1, prefill_tok_s=archs[architecture('selfgen', rec['ratio'])]['prefill_tok_s'],
                         decode_tok_s=archs[architecture('selfgen', rec['ratio'])]['decode_tok_s'],
                         decode_vs_dense=archs[architecture('selfgen', rec['ratio'])]['decode_tok_s'] / archs['dense']['decode_tok_s'],
                         source='recover_default.json'))
    sg_runs = (slicegpt or {}).get('runs', [])
    sg_dense = next((x for x in sg_runs if x['kind'] == 'dense'), None)
    for x in sg_runs:
        if x['kind'] != 'slice': continue
        size = f", sized as FFN pruning at {x['match_ffn']}" if 'match_ffn' in x else ''
        cal = {'slicegpt': "its default calibration budget, 128 x 2048 tokens"}.get(x['calibration'], f"{x['calibration']} calibration")
        rows.append(dict(method=f"SliceGPT ({cal}{size}; uses data)", ratio=x['sparsity'],
                         removed_pct=100 * (1 - x['params'] / dense_params), params=x['params'], ppl=x['ppl'], ppl_min=x['ppl'],
                         ppl_max=x['ppl'], bigbench=float('nan'), bigbench_sd=float('nan'), bigbench_se=float('nan'), seeds=1,
                         prefill_tok_s=x['prefill_tokens'] / x['prefill_cpu_s'], decode_tok_s=x['decode_tok_per_cpu_s'],
                         decode_vs_dense=(x['decode_tok_per_cpu_s'] / sg_dense['decode_tok_per_cpu_s']       # timed on the dense run's machine only
                                          if sg_dense and x.get('timing_machine') == sg_dense.get('timing_machine') else float('nan')),
                         match_ffn=x.get('match_ffn', float('nan')), source='slicegpt.json (its own code)'))
    t = pd.DataFrame(rows)
    return t.assign(match_ffn=t.get('match_ffn', float('nan')))

def rows_removed(rows, ratio):
    return next((x['removed_pct'] for x in rows if x['ratio'] == ratio and x['method'].startswith('selfgen (default')), float('nan'))

def ranks(t:pd.DataFrame, default='selfgen (default: + refit)') -> pd.DataFrame:
    """The default's rank among the pruned rows of each comparison (1 = best): perplexity (lower), suite average (higher;
    rows without one not counted); recovery (LoRA after pruning, which any method could add) is not ranked. At a nominal
    ratio r, as the paper compared: the FFN rows at r and SliceGPT slicing r.
    At equal size r: the FFN rows at r and SliceGPT sliced to their size. At SliceGPT's 0.3 size: FFN pruning matched to it."""
    ffn = t[(t.method != 'dense') & ~t.source.str.startswith('slicegpt') & (t.source != 'recover_default.json')]   # recovery: training on top
    sg = t[t.source.str.startswith('slicegpt')]
    eq = ', sized as SliceGPT at 0.3'
    groups = []
    for r in sorted(set(ffn[~ffn.method.str.endswith(eq)].ratio)):
        own = ffn[(ffn.ratio == r) & ~ffn.method.str.endswith(eq)]
        groups.append((f'nominal ratio {r}', own, sg[(sg.ratio == r) & sg.match_ffn.isna()], default))
        groups.append((f'equal size: FFN pruning at {r}', own, sg[sg.match_ffn == r], default))
    groups.append(("equal size: SliceGPT's 0.3", ffn[ffn.method.str.endswith(eq)], sg[(sg.ratio == 0.3) & sg.match_ffn.isna()], default + eq))
    out = []
    for name, own, other, d in groups:
        g = pd.concat([own, other])
        if d not in set(g.method) or other.empty: continue
        x = g[g.method == d].iloc[0]
        bb = g[g.bigbench.notna()]
        out.append(dict(comparison=name, rows=len(g), removed_pct=f"{g.removed_pct.min():.1f}-{g.removed_pct.max():.1f}",
                        default_ppl=x.ppl, ppl_rank=int((g.ppl < x.ppl).sum()) + 1, best_ppl=g.loc[g.ppl.idxmin(), 'method'],
                        bigbench_rows=len(bb), bigbench_rank=int((bb.bigbench > x.bigbench).sum()) + 1))
    return pd.DataFrame(out)

def figure(t:pd.DataFrame, path):
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt, seaborn as sns
    d = t[t.method != 'dense'].copy()
    d['family'] = (d.method.str.replace(r", \d+ x \d+ tokens \(authors' budget.*", " (authors' budget)", regex=True)
                           .str.replace(r", sized as FFN pruning at [\d.]+", "", regex=True))
    fig, ax = plt.subplots(figsize=(8, 4.6))
    sns.lineplot(d.sort_values('removed_pct'), x='removed_pct', y='ppl', hue='family', marker='o', ax=ax)
    dense = t[t.method == 'dense'].ppl.iloc[0]
    ax.axhline(dense, color='k', ls='--', lw=1, label='dense')
    ax.set(yscale='log', xlabel='parameters removed (% of the whole model)', ylabel='perplexity (test split, median over seeds)',
           title='SmolLM2-135M: held-out perplexity against parameters removed')
    ax.legend(fontsize=7, frameon=False, loc='upper left', bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout(); fig.savefig(path, dpi=120)

def zero_shot_rows(model, tok, a, r_eq) -> pd.DataFrame:
    "Every row with BIG-bench's suite and perplexity (`zero_shot_runs`): ours from zeroshot.json, the peers' in their own files."
    from prunenet.evaluate import BIGBENCH_SUITE
    from prunenet.ablations import zero_shot_runs, TABLE_METHODS
    from prunenet.core import write_json
    own = zero_shot_runs(model, tok, (0.2, 0.25, 0.3), (0, 1, 2), methods=TABLE_METHODS, results=RESULTS/'zeroshot.json', progress=False)
    own = own[own.ratio.isin([0.0, *a.ratios])]
    dense = own[own.method == 'dense'].iloc[0].to_dict()
    def results(name, ratios):
        f = RESULTS/name
        if not f.exists():      # the dense row is zeroshot.json's: the same model scored with the same settings
            write_json(f, dict(settings=dict(ratios=list(ratios), seeds=[0, 1, 2], items=50, windows=20, suite=BIGBENCH_SUITE),
                               runs=[{k: v for k, v in dense.items() if pd.notna(v)}]))
        return f
    peers = [zero_shot_runs(model, tok, ratios, (0, 1, 2), methods=peer_methods(authors), results=results(name, ratios), progress=False)
             for authors, ratios, name in ((False, a.ratios, 'peers_runs.json'), (True, a.authors_ratios, 'peers_authors.json'))]
    if r_eq:     # (b) the other way round: FFN pruning at the size SliceGPT reaches at its nominal 30 %
        e = zero_shot_runs(model, tok, (r_eq,), (0, 1, 2), methods=equal_size_methods(), results=results('peers_equal_size.json', [r_eq]),
                           progress=False)
        peers.append(e.assign(method=e.method.map(lambda m: m if m == 'dense' else f'{m}{EQ}')))
    return pd.concat([own] + [p[p.method != 'dense'] for p in peers], ignore_index=True)

EQ = ', sized as SliceGPT at 0.3'

def equal_size_methods() -> dict:
    from prunenet.ablations import TABLE_METHODS
    return {k: v for k, v in (TABLE_METHODS | peer_methods()).items() if k in EQUAL_SIZE}

def perplexity_rows(model, tok, a, r_eq, path=RESULTS/'peers_ppl.json', windows:int=20) -> pd.DataFrame:
    """Every row with held-out perplexity only (where BIG-bench's archive cannot be had): each (method, ratio, seed) chosen on
    the dense model and scored by `prunenet.ablations.run_grid` (selfgen's text written once per seed and shared); finished
    runs are kept in `path` and not redone."""
    from prunenet.ablations import Run, run_grid, TABLE_METHODS
    from prunenet.data import wiki_text
    from prunenet.evaluate import perplexity
    from prunenet.core import write_json
    text = wiki_text('test')
    todo = [(lbl, spec, r) for r in a.ratios for lbl, spec in (TABLE_METHODS | peer_methods(False)).items()]
    todo += [(lbl, spec, r) for r in a.authors_ratios for lbl, spec in peer_methods(True).items()]
    todo += [(lbl + EQ, spec, r_eq) for lbl, spec in equal_size_methods().items()] if r_eq else []
    done = json.loads(path.read_text())['runs'] if path.exists() else []
    if not done:
        done.append(dict(method='dense', ratio=0.0, seed=0, ppl=perplexity(model, tok, text, max_windows=windows)['perplexity'], choose_s=0.0))
    have, signals = {(x['method'], x['ratio'], x['seed']) for x in done}, {}
    for lbl, (mode, o, seeded), r in todo:
        for seed in ((0, 1, 2) if seeded else (0,)):
            if (lbl, r, seed) in have: continue
            g = run_grid(model, tok, [Run(lbl, mode, r, seed, overrides=o)], text, windows=windows, signals=signals, progress=False)
            x = g.iloc[0]
            done.append(dict(method=lbl, ratio=r, seed=seed, ppl=float(x.ppl), choose_s=float(x.choose_s + x.signal_s + x.compensate_s)))
            write_json(path, dict(settings=dict(windows=windows, text='wiki test split'), updated=time.strftime('%Y-%m-%dT%H:%M:%S'),
                                  threads=torch.get_num_threads(), runs=done))
            print(lbl, r, seed, f'{x.ppl:.2f}', flush=True)
    return pd.DataFrame(done).assign(average=float('nan'))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--slicegpt', default=str(RESULTS/'slicegpt.json'))
    ap.add_argument('--ratios', type=float, nargs='+', default=[0.2, 0.25, 0.3], help="the peers' runs at this project's budget")
    ap.add_argument('--authors-ratios', type=float, nargs='+', default=[0.3], help="the peers' runs at their authors' budgets")
    ap.add_argument('--perplexity-only', action='store_true',
                    help="no BIG-bench column (where its archive cannot be had): runs go to bench/results/peers_ppl.json")
    ap.add_argument('--markdown', action='store_true')
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from prunenet.models import load_model
    from prunenet.ablations import TABLE_METHODS, suite_chance
    model, tok = load_model()
    t0 = time.perf_counter()
    sg = json.loads(Path(a.slicegpt).read_text()) if Path(a.slicegpt).exists() else None
    r_eq = ffn_ratio_matching(model, sg, 0.3) if sg else None
    runs = perplexity_rows(model, tok, a, r_eq) if a.perplexity_only else zero_shot_rows(model, tok, a, r_eq)
    methods = TABLE_METHODS | peer_methods(False) | peer_methods(True)
    modes = {lbl: spec[0] for lbl, spec in methods.items()}
    modes |= {f'{k}{EQ}': methods[k][0] for k in EQUAL_SIZE}
    runs['mode'] = runs.method.map(lambda m: modes.get(m, 'dense'))
    archs = measure_architectures(model, tok, sorted({architecture(m, r) for m, r in zip(runs['mode'], runs.ratio)}), a.threads)
    rec = json.loads((RESULTS/'recover_default.json').read_text())['runs']
    recovery = [x for x in rec if x['mode'] == 'selfgen' and x['recipe'] == 'selfgen (kd)']
    t = table(runs, archs, sg, recovery, bigbench=not a.perplexity_only)
    rk = ranks(t)
    chance = None if a.perplexity_only else suite_chance(50)
    out = dict(settings=dict(ratios=a.ratios, authors_ratios=a.authors_ratios, seeds=[0, 1, 2], bigbench=not a.perplexity_only,
                             items=50, windows=20, threads=a.threads, chance=chance,
                             slicegpt=sg and sg.get('meta')),
               machine=dict(machine=platform.machine(), torch=torch.__version__, cpu_count=torch.get_num_threads()),
               seconds=time.perf_counter() - t0, architectures=archs, table=t.to_dict('records'), default_ranks=rk.to_dict('records'))
    (RESULTS/'peers.json').write_text(json.dumps(out, indent=1, default=float) + '\n')
    figure(t, RESULTS/'peers.png')
    show = t.drop(columns=['params', 'source']).round(2)
    print(show.to_markdown(index=False) if a.markdown else show.to_string(index=False))
    print(rk.to_markdown(index=False) if a.markdown else rk.to_string(index=False))

if __name__ == '__main__': main()
