"""The paper's comparison on the default model: every method at the paper's nominal ratios, and SliceGPT at equal size.

Rows: dense; random units; `paper` (authors' numerics, and exact); the default (`selfgen` + refit) and the default +
recovery; the calibrated reference + refit; the peers that use data, FLAP (with its bias), Wanda-sp and LLM-Pruner's
Taylor importance (notebook 08c) at this project's calibration budget (16 x 256 tokens), and also at their
authors' budgets, capped at 256 x 128 tokens (MAX_TOKENS: FLAP's own 1024 x 128 is four times what this 2-core
machine reads in the time); SliceGPT run by its own code (`bench/slicegpt.py`, read from its JSON) at the nominal
slicing ratios and at the slicing ratios whose parameter counts match FFN pruning at 0.2, 0.25 and 0.3.
Columns: parameters removed (% of the whole model, counted on the saved model: FLAP's bias and SliceGPT's shortcut
matrices and untied head included), held-out perplexity (test split, 20 windows of 256 tokens; median over seeds), the
offline BIG-bench suite's average (50 test items per task; mean and sd over seeds, and the binomial standard error of
one run), prefill and decode speed (one thread, batch 1; one measurement per architecture; machines in `speed_machines`) and decode
speed relative to dense measured the same way (SliceGPT's in its own venv, against its own dense run: dense and every
width timed in one process by `bench/slicegpt.py --speeds` where its results file has that job).

The project's own rows are `prunenet.ablations.zero_shot_runs`'s in bench/results/zeroshot.json, read back; the peers'
runs go to bench/results/peers_runs.json (this project's budget) and bench/results/peers_authors.json (theirs), whose
dense row is zeroshot.json's (the same computation) rather than a second run. Everything is written to
bench/results/peers.json and the figure to bench/results/peers.png; `--markdown` prints the tables for RESULTS.md.

`--perplexity-only`, for machines where BIG-bench's archive cannot be had (the package index this project's machines
reach stopped serving it in December 2026): every row, ours included, is chosen and scored here on held-out text alone
(`prunenet.ablations.run_grid`), kept in bench/results/peers_ppl.json; the table has no BIG-bench column. Each run keeps
its 20 windows' NLLs, so the table gives each row's perplexity as the text alone leaves it uncertain (the 5-95 % range
over 2000 resamples of the windows, `prunenet.evaluate.bootstrap_ppl`, the same resamples for every row) and the ranks
give the default's rank in 90 % of those resamples and how often it beats the best other row; each row's
`p_default_beats` is the share of the resamples in which the default at its ratio beats it (SliceGPT's and the
recovery rows recorded no windows and keep their one value).

`--calib-samples`: the methods that use data (the calibrated reference, the peers) also run once per seed, seed s
reading the s-th disjoint block of the calibration split's windows (`calib_sample`, notebook 08b), so their rows, like
the seeded ones, give the median and range over three runs: the noise of their calibration data.

`--model gemma`: the same on Gemma 3 270M (the packaged GGUF), perplexity only, into *_gemma.json/png; no SliceGPT (its
adapters are for LLaMA, OPT and Phi, and its rotations need a block's output to reach the residual stream without a
norm: Gemma 3 normalises the attention's and the FFN's outputs with elementwise weights, which do not commute with a
rotation), no recovery rows.

    OMP_NUM_THREADS=1 python bench/peers.py [--slicegpt bench/results/slicegpt.json] [--perplexity-only [--calib-samples]] [--markdown]
    OMP_NUM_THREADS=1 python bench/peers.py --perplexity-only --model gemma --ratios 0.3 --authors-ratios
"""
import argparse, copy, json, math, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd, torch

RESULTS = Path(__file__).resolve().parent/'results'

MAX_TOKENS = 256 * 128     # the most calibration text a run reads here: FLAP's own 1024 x 128 would take half an hour per run

def peer_methods(authors:bool=False, bias:bool=True) -> dict:
    """label: (mode, settings, seeded) for the peers at this project's budget, or (`authors`) at their authors' (zero_shot_runs's
    format); without `bias` (a model whose FFN cannot carry one, `prunenet.adapters.can_add_out_bias`), FLAP's metric alone."""
    from prunenet.peers import AUTHOR_BUDGETS
    names = {'flap': 'FLAP', 'wanda-sp': 'Wanda-sp', 'taylor': 'LLM-Pruner Taylor'}
    out = {}
    for mode, name in names.items():
        b = dict(AUTHOR_BUDGETS[mode])
        b['calib_windows'] = min(b['calib_windows'], MAX_TOKENS // b['calib_len'])
        a = AUTHOR_BUDGETS[mode]
        cap = '' if b == a else f"; theirs {a['calib_windows']} x {a['calib_len']}"
        note = 'no FFN bias in this model; ' if mode == 'flap' and not bias else ''
        if note: name = 'FLAP without its bias'
        key = f"{name} ({note}uses data)" if not authors else f"{name}, {b['calib_windows']} x {b['calib_len']} tokens (authors' budget{cap}; {note}uses data)"
        o = (b if authors else {}) | ({} if bias or mode != 'flap' else dict(compensate='none'))
        out[key] = (mode, o, False)
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
    for (m, r), g in runs.sort_values('ratio', kind='stable').groupby(['method', 'ratio'], sort=False):   # by ratio, then as run
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
    sg_speed = [x for x in sg_runs if x['kind'] == 'speed']       # dense and every width timed in one process (slicegpt.py --speeds)
    assert len(sg_speed) <= 1, 'more than one speed job in the SliceGPT results'
    sg_speed = sg_speed[0] if sg_speed else {}
    for x in sg_runs:
        if x['kind'] != 'slice': continue
        tm = sg_speed.get('widths', {}).get(str(x['dim']))
        tm, base = (tm, sg_speed['dense']) if tm else (x, sg_dense if sg_dense and x.get('timing_machine') == sg_dense.get('timing_machine') else None)
        size = f", sized as FFN pruning at {x['match_ffn']}" if 'match_ffn' in x else ''
        cal = {'slicegpt': "its default calibration budget, 128 x 2048 tokens"}.get(x['calibration'], f"{x['calibration']} calibration")
        rows.append(dict(method=f"SliceGPT ({cal}{size}; uses data)", ratio=x['sparsity'],
                         removed_pct=100 * (1 - x['params'] / dense_params), params=x['params'], ppl=x['ppl'], ppl_min=x['ppl'],
                         ppl_max=x['ppl'], bigbench=float('nan'), bigbench_sd=float('nan'), bigbench_se=float('nan'), seeds=1,
                         prefill_tok_s=tm['prefill_tokens'] / tm['prefill_cpu_s'], decode_tok_s=tm['decode_tok_per_cpu_s'],
                         decode_vs_dense=tm['decode_tok_per_cpu_s'] / base['decode_tok_per_cpu_s'] if base else float('nan'),   # one machine only
                         match_ffn=x.get('match_ffn', float('nan')), timed_on=tm.get('timing_machine', 'not recorded'),
                         source='slicegpt.json (its own code)'))
    t = pd.DataFrame(rows)
    t = t.assign(match_ffn=t.get('match_ffn', float('nan')))
    boot = window_boot(runs, t)
    t['ppl_lo'] = [np.percentile(boot[i], 5) if i in boot else float('nan') for i in t.index]
    t['ppl_hi'] = [np.percentile(boot[i], 95) if i in boot else float('nan') for i in t.index]
    return t, boot

BOOT = 2000        # resamples of the test windows

def window_boot(runs:pd.DataFrame, t:pd.DataFrame, n:int=BOOT) -> dict:
    """{row of `t`: its perplexity under each of `n` resamples of the test windows (`prunenet.evaluate.bootstrap_ppl`, the
    same resamples for every row; median over seeds)}, for the rows whose runs recorded their windows (SliceGPT's and the
    recovery rows did not)."""
    from prunenet.evaluate import bootstrap_ppl
    if 'window_nll' not in runs: return {}
    have = runs[runs.window_nll.notna()]
    if have.empty: return {}
    per_run = pd.DataFrame(bootstrap_ppl(list(have.window_nll), list(have.window_tokens), n), columns=have.index)
    out = {}
    for i, x in t.iterrows():
        ids = have.index[(have.method == x.method) & (have.ratio == x.ratio)]
        if len(ids): out[i] = np.median(per_run[ids].to_numpy(), axis=1)
    return out

def default_beats(t:pd.DataFrame, boot:dict, default='selfgen (default: + refit)') -> list:
    "Per row of `t`: the share of the resamples in `boot` in which the default at the row's ratio (or size) has the lower perplexity (NaN without both)."
    at = {x.ratio: i for i, x in t[t.method.str.startswith(default)].iterrows()}      # the default, and the default sized as SliceGPT
    return [float((boot[at[x.ratio]] < boot[i]).mean()) if i in boot and at.get(x.ratio) in boot and i != at[x.ratio] else float('nan')
            for i, x in t.iterrows()]

def rows_removed(rows, ratio):
    return next((x['removed_pct'] for x in rows if x['ratio'] == ratio and x['method'].startswith('selfgen (default')), float('nan'))

def ranks(t:pd.DataFrame, boot:dict=None, default='selfgen (default: + refit)') -> pd.DataFrame:
    """The default's rank among the pruned rows of each comparison (1 = best): perplexity (lower), suite average (higher;
    rows without one not counted), decode speed relative to dense (higher; rows of one architecture share one measurement
    and so a rank: ties count for the default); recovery (LoRA after pruning, which any method could add) is not ranked. At a nominal
    ratio r, as the paper compared: the FFN rows at r and SliceGPT slicing r.
    At equal size r: the FFN rows at r and SliceGPT sliced to their size. At SliceGPT's 0.3 size: FFN pruning matched to it.
    With `boot` (`window_boot`): the default's perplexity rank in 90 % of the resamples of the test windows, and the share of
    resamples in which the default beats the best other row (rows without windows keep their one perplexity)."""
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
        if d not in set(g.method) or (other.empty and name.startswith('equal size')): continue   # no SliceGPT: nominal only
        x = g[g.method == d].iloc[0]
        bb = g[g.bigbench.notna()]
        best = g[g.method != d].ppl.idxmin()
        noise = {}
        if boot and x.name in boot:
            b = np.stack([boot.get(i, np.full(BOOT, g.ppl[i])) for i in g.index], 1)       # resamples x rows
            me = list(g.index).index(x.name)
            rank = (b < b[:, [me]]).sum(1) + 1
            noise = dict(ppl_rank_90=f"{int(np.percentile(rank, 5))}-{int(np.percentile(rank, 95))}",
                         p_beats_best_other=float((b[:, me] < b[:, list(g.index).index(best)]).mean()))
        out.append(dict(comparison=name, rows=len(g), removed_pct=f"{g.removed_pct.min():.1f}-{g.removed_pct.max():.1f}",
                        default_ppl=x.ppl, ppl_rank=int((g.ppl < x.ppl).sum()) + 1, best_ppl=g.loc[g.ppl.idxmin(), 'method'],
                        **noise, best_other=g.method[best], bigbench_rows=len(bb),
                        bigbench_rank=int((bb.bigbench > x.bigbench).sum()) + 1 if len(bb) else None,
                        decode_rows=int(g.decode_vs_dense.notna().sum()), decode_rank=int((g.decode_vs_dense > x.decode_vs_dense).sum()) + 1))
    return pd.DataFrame(out)

def figure(t:pd.DataFrame, path, model_name:str='SmolLM2-135M'):
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt, seaborn as sns
    d = t[t.method != 'dense'].copy()
    d['family'] = (d.method.str.replace(r", \d+ x \d+ tokens \(authors' budget.*", " (authors' budget)", regex=True)
                           .str.replace(r", sized as FFN pruning at [\d.]+", "", regex=True))
    if d.removed_pct.round(2).nunique() == 1:       # one size (one ratio, no SliceGPT): a row per method, not a line
        d = d.sort_values('ppl', ascending=False)
        fig, ax = plt.subplots(figsize=(10, 0.35 * len(d) + 1.4))
        ax.errorbar(d.ppl, d.method, xerr=[d.ppl - d.ppl_lo.fillna(d.ppl), d.ppl_hi.fillna(d.ppl) - d.ppl], fmt='o', capsize=2, lw=0.8)
        ax.axvline(t[t.method == 'dense'].ppl.iloc[0], color='k', ls='--', lw=1, label='dense')
        ax.set(xscale='log', xlabel='perplexity (test split; median over seeds; bars: 90 % over resampled windows)',
               title=f'{model_name}: {d.removed_pct.iloc[0]:.1f} % of the parameters removed')
        ax.legend(fontsize=7, frameon=False); fig.tight_layout(); fig.savefig(path, dpi=120)
        return
    fig, ax = plt.subplots(figsize=(8, 4.6))
    pal = dict(zip(d.family.unique(), sns.color_palette('tab20', d.family.nunique())))
    sns.lineplot(d.sort_values('removed_pct'), x='removed_pct', y='ppl', hue='family', palette=pal, marker='o', ax=ax)
    for _, x in d[d.ppl_lo.notna()].iterrows():        # 90 % of the resamples of the test windows
        ax.errorbar(x.removed_pct, x.ppl, yerr=[[x.ppl - x.ppl_lo], [x.ppl_hi - x.ppl]], color=pal[x.family], lw=0.8, capsize=2)
    dense = t[t.method == 'dense'].ppl.iloc[0]
    ax.axhline(dense, color='k', ls='--', lw=1, label='dense')
    ax.set(yscale='log', xlabel='parameters removed (% of the whole model)', ylabel='perplexity (test split, median over seeds;\nbars: 90 % over resampled windows)',
           title=f'{model_name}: held-out perplexity against parameters removed')
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
    from prunenet.compress import get_method
    from prunenet.data import wiki_text
    from prunenet.evaluate import perplexity
    from prunenet.core import write_json
    text = wiki_text('test')
    todo = [(lbl, spec, r) for r in a.ratios for lbl, spec in (TABLE_METHODS | peer_methods(False, a.bias)).items()]
    todo += [(lbl, spec, r) for r in a.authors_ratios for lbl, spec in peer_methods(True, a.bias).items()]
    todo += [(lbl + EQ, spec, r_eq) for lbl, spec in equal_size_methods().items()] if r_eq else []
    done = json.loads(path.read_text())['runs'] if path.exists() else []
    if not done:
        p = perplexity(model, tok, text, max_windows=windows, per_window=True)
        done.append(dict(method='dense', ratio=0.0, seed=0, ppl=p['perplexity'], choose_s=0.0, window_nll=p['window_nll'], window_tokens=p['window_tokens']))
    have, signals = {(x['method'], x['ratio'], x['seed']) for x in done}, {}
    for lbl, (mode, o, seeded), r in todo:
        sample = a.calib_samples and get_method(mode).uses_data       # seed s reads calibration block s
        for seed in (a.seeds if seeded or sample else (0,)):
            if (lbl, r, seed) in have: continue
            run = Run(lbl, mode, r, seed, overrides=o | ({'calib_sample': seed} if sample else {}))
            g = run_grid(model, tok, [run], text, windows=windows, signals=signals, progress=False, per_window=True)
            x = g.iloc[0]
            done.append(dict(method=lbl, ratio=r, seed=seed, ppl=float(x.ppl), choose_s=float(x.choose_s + x.signal_s + x.compensate_s),
                             window_nll=x.window_nll, window_tokens=x.window_tokens) | ({'calib_sample': seed} if sample else {}))
            write_json(path, dict(settings=dict(windows=windows, text='wiki test split'), updated=time.strftime('%Y-%m-%dT%H:%M:%S'),
                                  threads=torch.get_num_threads(), runs=done))
            print(lbl, r, seed, f'{x.ppl:.2f}', flush=True)
    return pd.DataFrame(done).assign(average=float('nan'))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--slicegpt', default=str(RESULTS/'slicegpt.json'))
    ap.add_argument('--ratios', type=float, nargs='+', default=[0.2, 0.25, 0.3], help="the peers' runs at this project's budget")
    ap.add_argument('--authors-ratios', type=float, nargs='*', default=[0.2, 0.25, 0.3], help="the peers' runs at their authors' budgets")
    ap.add_argument('--perplexity-only', action='store_true',
                    help="no BIG-bench column (where its archive cannot be had): runs go to bench/results/peers_ppl.json")
    ap.add_argument('--markdown', action='store_true')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--model', default=None, choices=['gemma'],
                    help="Gemma 3 270M (the packaged GGUF) instead of the default model, perplexity only: no SliceGPT (its rotations "
                         "assume no norm after a block's output, and Gemma 3 normalises after both), no recovery rows; results to *_gemma.*")
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2], help='seeds of the seeded methods (perplexity only)')
    ap.add_argument('--calib-samples', action='store_true', help="the methods that use data also run once per seed, seed s "
                    "reading the s-th disjoint block of calibration windows (calib_sample=s): the noise of their data (perplexity only)")
    ap.add_argument('--speeds-from', default=None, help="a peers*.json whose measured speeds and parameter counts to reuse (the table "
                    "remade from recorded runs, e.g. after a SliceGPT row is added) instead of measuring them again")
    a = ap.parse_args()
    if a.model and not a.perplexity_only: ap.error('--model gemma runs with --perplexity-only')
    torch.set_num_threads(a.threads)
    from prunenet.models import load_model, gemma_gguf
    from prunenet.core import machine
    from prunenet.ablations import TABLE_METHODS, suite_chance
    from prunenet.adapters import can_add_out_bias
    model, tok = load_model(gemma_gguf() if a.model == 'gemma' else None)
    a.bias = can_add_out_bias(model)          # Gemma 3's FFN has no bias: FLAP runs without its compensation
    tag, name = ('_gemma', 'Gemma 3 270M') if a.model == 'gemma' else ('', 'SmolLM2-135M')
    t0 = time.perf_counter()
    sg = json.loads(Path(a.slicegpt).read_text()) if Path(a.slicegpt).exists() and not a.model else None
    r_eq = ffn_ratio_matching(model, sg, 0.3) if sg else None
    runs = perplexity_rows(model, tok, a, r_eq, RESULTS/f'peers_ppl{tag}.json') if a.perplexity_only else zero_shot_rows(model, tok, a, r_eq)
    methods = TABLE_METHODS | peer_methods(False, a.bias) | peer_methods(True, a.bias)
    modes = {lbl: spec[0] if spec[1].get('compensate') != 'none' else f'{spec[0]} without compensation' for lbl, spec in methods.items()}
    modes |= {f'{k}{EQ}': methods[k][0] for k in EQUAL_SIZE if k in methods}
    runs['mode'] = runs.method.map(lambda m: modes.get(m, 'dense'))
    need = sorted({architecture(m, r) for m, r in zip(runs['mode'], runs.ratio)})
    prev = json.loads(Path(a.speeds_from).read_text()) if a.speeds_from else {}
    old = prev.get('architectures', {})
    timed_on = prev.get('speed_machines', {}).get('prunenet', prev.get('machine')) if prev else machine()   # where this project's rows were timed
    if old and set(need) - set(old): ap.error(f"--speeds-from {a.speeds_from} lacks {', '.join(sorted(set(need) - set(old)))}")
    archs = {k: old[k] for k in need} if old else measure_architectures(model, tok, need, a.threads)
    rec = [] if a.model else json.loads((RESULTS/'recover_default.json').read_text())['runs']      # recovery measured on the default model only
    recovery = [x for x in rec if x['mode'] == 'selfgen' and x['recipe'] == 'selfgen (kd)']
    t, boot = table(runs, archs, sg, recovery, bigbench=not a.perplexity_only)
    t['p_default_beats'] = default_beats(t, boot)
    rk = ranks(t, boot)
    chance = None if a.perplexity_only else suite_chance(50)
    out = dict(model=name, settings=dict(ratios=a.ratios, authors_ratios=a.authors_ratios, seeds=a.seeds, bigbench=not a.perplexity_only,
                             items=50, windows=20, threads=a.threads, chance=chance, window_resamples=BOOT, speeds_from=a.speeds_from,
                             slicegpt=sg and sg.get('meta')),
               machine=machine(), speed_machines=dict(prunenet=timed_on, slicegpt=sorted(set(t.get('timed_on', pd.Series()).dropna()))),
               seconds=time.perf_counter() - t0, architectures=archs, table=t.to_dict('records'), default_ranks=rk.to_dict('records'))
    (RESULTS/f'peers{tag}.json').write_text(json.dumps(out, indent=1, default=float) + '\n')
    figure(t, RESULTS/f'peers{tag}.png', name)
    show = t.drop(columns=['params', 'source']).round(2)
    print(show.to_markdown(index=False) if a.markdown else show.to_string(index=False))
    print(rk.to_markdown(index=False) if a.markdown else rk.to_string(index=False))

if __name__ == '__main__': main()
