"""SliceGPT (Ashkboos et al., ICLR 2024), the paper's baseline, run by its own code on the default model.

SliceGPT's code (github.com/microsoft/TransformerCompression) pins transformers 4.41, so it runs in a separate
venv; nothing of it is copied here and prunenet never imports it. This script runs twice over:
- under prunenet's venv (the command below) it saves the default model as a Hugging Face directory that
  transformers 4.41 reads, records the exact token windows prunenet's `perplexity` scores (20 x 256 tokens of
  the test split, no BOS) and prunenet's dense perplexity on them, and the parameter counts prunenet's FFN
  pruning reaches at --match-ffn ratios; then
- it starts itself under the side venv (`--python`) once per job, with SliceGPT's checkout on sys.path. A job
  loads the model with SliceGPT's `hf_utils.get_model_and_tokenizer`, then makes the calls of its
  `experiments/run_slicegpt.py`: `replace_layers`, `fuse_modules`, `ConstSlicingScheduler`, `rotate_and_slice`
  (final orientation 'random', its CLI default; float32), and scores the sliced model on prunenet's windows
  exactly as `prunenet.evaluate.perplexity` does.

Calibration settings (SliceGPT's default, wikitext2 from the hub, is unreachable offline):
- `slicegpt`: SliceGPT's own `data_utils.prepare_dataloader` with its CLI defaults (128 samples of 2048 tokens,
  batch 16, seed 42, concatenated rows) over prunenet's calibration split, one row per paragraph.
- `prunenet`: prunenet's calibration budget, `prunenet.baselines.calibration_ids` (16 x 256 tokens), one batch.
Parameters are counted on the sliced model itself: its shortcut matrices and its untied lm_head included.

Side venv (Python 3.10+; torch first, so pip keeps the CPU build):
    git clone <mirror or https://github.com/microsoft/TransformerCompression> TransformerCompression
    python3 -m venv slicegpt-venv
    slicegpt-venv/bin/pip install torch==2.13.0
    echo torch==2.13.0 > c.txt
    slicegpt-venv/bin/pip install -c c.txt transformers==4.41.0 datasets==2.18.0 accelerate ml-collections numpy tqdm
    slicegpt-venv/bin/pip install --no-deps -e TransformerCompression      # optional: --checkout is put on sys.path
Usage (prunenet's venv; every job runs on --threads threads):
    nice -n 19 python bench/slicegpt.py --checkout TransformerCompression --python slicegpt-venv/bin/python \
        [--ratios 0.2 0.25 0.3] [--calibrations slicegpt prunenet] [--match-ffn 0.2 0.25 0.3] [--match-calibrations prunenet]
Finished jobs are kept in --out and skipped on a rerun (--redo to run them again). Jobs at SliceGPT's own budget take
about an hour each at 1 thread: to run two at once on 2 cores, give each process its own --workdir and --out (a copy of
the results file, so finished jobs are skipped), then add theirs to the results file:
    python bench/slicegpt.py --merge A/slicegpt.json B/slicegpt.json
Each job times its model on the machine it ran on; jobs run in other sessions ran on other machines. `--speeds` times dense
and every sliced width of --out again in one process (identity shortcuts in place of the rotations: the same shapes and
matmuls), and bench/peers.py takes the SliceGPT rows' speeds from that job:
    nice -n 19 python bench/slicegpt.py --checkout TransformerCompression --python slicegpt-venv/bin/python --speeds
"""
import argparse, json, math, os, statistics, subprocess, sys, time
from pathlib import Path
sys.path[:] = [p for p in sys.path if Path(p or '.').resolve() != Path(__file__).resolve().parent]   # bench/*.py may shadow packages
import torch

DENSE_NAME = 'meta-llama/Llama-2-local'   # SliceGPT picks its adapter by name prefix; weights come from --model-path
CLI = dict(cal_nsamples=128, cal_max_seqlen=2048, cal_batch_size=16, seed=42, round_interval=8, final_orientation='random')

# ---------------------------------------------------------------- side venv (SliceGPT)
def load(ck, model_dir):
    sys.path.insert(0, str(Path(ck)/'src'))
    from slicegpt import hf_utils
    adapter, tok = hf_utils.get_model_and_tokenizer(DENSE_NAME, model_dir, dtype=torch.float32)
    return adapter, tok

@torch.no_grad()
def ppl(model, windows):
    "prunenet.evaluate.perplexity's arithmetic on its own windows (stride = window: every next token scored)."
    nll, n = 0.0, 0
    for batch in windows:
        lp = torch.log_softmax(model(batch).logits.float()[:, :-1], -1).gather(-1, batch[:, 1:, None]).squeeze(-1)
        nll -= lp.sum().item(); n += lp.numel()
    return math.exp(nll / n)

def cpu_name() -> str:
    "The processor the timings ran on (speeds compare only between runs on the same one); prunenet.core.machine's, which the side venv cannot import."
    return next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?') + f', {os.cpu_count()} cores'

@torch.no_grad()
def timings(adapter, prompt, new=64, reps=3):
    """Prefill of 1 x len(prompt) tokens and greedy decode of `new` tokens (generate minus prefill, KV cache on):
    median over `reps` after a warm-up, as CPU seconds of this process (robust to other load; 1 thread) and wall seconds."""
    model = adapter.model; adapter.use_cache = True
    x = prompt[None]
    gen = lambda: model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=new, min_new_tokens=new,
                                 do_sample=False, pad_token_id=model.config.pad_token_id)
    out = {}
    for name, f in [('prefill', lambda: model(x, use_cache=False)), ('generate', gen)]:
        f(); cpu, wall = [], []
        for _ in range(reps):
            c0, t0 = time.process_time(), time.perf_counter(); f()
            cpu.append(time.process_time() - c0); wall.append(time.perf_counter() - t0)
        out[name] = statistics.median(cpu), statistics.median(wall)
    adapter.use_cache = False
    (pc, pw), (gc, gw) = out['prefill'], out['generate']
    return dict(timing_machine=cpu_name(), prefill_cpu_s=pc, prefill_wall_s=pw, decode_tok_per_cpu_s=new / (gc - pc), decode_tok_per_wall_s=new / (gw - pw),
                prefill_tokens=len(prompt), decode_tokens=new, timing_reps=reps)

def nparams(model): return sum(p.numel() for p in model.parameters())

def calibration(inp, tok, name):
    from slicegpt import data_utils
    import datasets
    if name == 'prunenet':
        ids = inp['calib_ids']
        batches = [dict(input_ids=ids, attention_mask=torch.ones_like(ids))]
        desc = f"prunenet.baselines.calibration_ids: {ids.shape[0]} x {ids.shape[1]} tokens of the calibration split, one batch"
    else:
        ds = datasets.Dataset.from_dict({'text': inp['calib_lines']})
        loader = data_utils.prepare_dataloader(dataset=ds, tokenizer=tok, max_seqlen=CLI['cal_max_seqlen'],
                                               batch_size=CLI['cal_batch_size'], nsamples=CLI['cal_nsamples'],
                                               varied_seqlen=False, seed=CLI['seed'])
        batches = list(loader)
        n, toks = sum(len(b['input_ids']) for b in batches), sum(int(b['attention_mask'].sum()) for b in batches)
        desc = (f"slicegpt data_utils.prepare_dataloader, CLI defaults (nsamples {CLI['cal_nsamples']}, max_seqlen "
                f"{CLI['cal_max_seqlen']}, batch {CLI['cal_batch_size']}, seed {CLI['seed']}, varied_seqlen False) over prunenet's "
                f"calibration split, one row per paragraph: {n} samples, {toks} non-pad tokens")
    return batches, desc

def fused(adapter):
    from slicegpt import layernorm_fusion
    layernorm_fusion.replace_layers(adapter)
    layernorm_fusion.fuse_modules(adapter)

def narrowed(adapter, dims):
    """Fuse the model, then slice it to each of `dims`, widest first, yielding each width with the model sliced to it: a sliced
    model's shapes without its rotations (identity shortcuts, as hf_utils.load_sliced_model sets them up before slicing; the
    values change neither the parameter count nor the matmuls' cost). Slicing keeps a prefix, so it narrows step by step."""
    from slicegpt import rotate
    from slicegpt.slicing_scheduler import ConstSlicingScheduler
    fused(adapter)
    h, L = adapter.hidden_size, len(adapter.get_layers())
    for la in adapter.get_layers():
        la.layer.attn_shortcut_Q = torch.nn.Parameter(torch.eye(h)); la.layer.mlp_shortcut_Q = torch.nn.Parameter(torch.eye(h))
    for d in sorted(dims, reverse=True):
        s = ConstSlicingScheduler(d); s.setup(hidden_size=h, layers_num=L, parallel_blocks=False)
        rotate.slice_rotated_model(adapter, s)
        yield d

def worker(a):
    import numpy as np
    sys.path.insert(0, str(Path(a.checkout)/'src'))      # the checkout, whether or not it is installed in the side venv
    from slicegpt import rotate
    from slicegpt.slicing_scheduler import ConstSlicingScheduler
    torch.set_num_threads(a.threads)
    job, inp = json.loads(a.job), torch.load(Path(a.workdir)/'inputs.pt')
    adapter, tok = load(a.checkout, inp['model_dir'])
    model = adapter.model
    res = dict(job)
    if job['kind'] == 'dense':
        ids = tok(inp['test_text'], add_special_tokens=False).input_ids
        flat = torch.cat([w.reshape(-1) for w in inp['windows']]).tolist()
        res.update(tokenizer_matches=ids[:len(flat)] == flat, params=nparams(model), ppl=ppl(model, inp['windows']),
                   **timings(adapter, inp['windows'][0][0]))
        fused(adapter)
        res.update(params_fused=nparams(model), ppl_fused=ppl(model, inp['windows']))
    elif job['kind'] == 'count':   # parameters after SliceGPT's slicing to each dimension
        res['counts'] = {d: nparams(model) for d in narrowed(adapter, job['dims'])}
    elif job['kind'] == 'speed':   # dense and every width timed in one process: speeds from one machine, comparable across rows
        res.update(timing_machine=cpu_name(), dense=timings(adapter, inp['windows'][0][0]))
        res['widths'] = {d: dict(params=nparams(model), **timings(adapter, inp['windows'][0][0])) for d in narrowed(adapter, job['dims'])}
    else:
        np.random.seed(CLI['seed']); torch.manual_seed(CLI['seed'])     # 'random' final orientation draws from numpy
        batches, res['calibration_desc'] = calibration(inp, tok, job['calibration'])
        fused(adapter)
        res['params_fused'] = nparams(model)
        t0 = time.perf_counter()
        rotate.rotate_and_slice(adapter, batches, ConstSlicingScheduler(job['dim']), final_orientation=CLI['final_orientation'])
        res['slicing_s'] = time.perf_counter() - t0
        del batches
        res.update(params=nparams(model), ppl=ppl(model, inp['windows']), **timings(adapter, inp['windows'][0][0]))
    Path(a.result).write_text(json.dumps(res))

# ---------------------------------------------------------------- prunenet's venv
def for_transformers4(d):
    "Rewrite the few transformers-5 fields of a saved Llama directory that transformers 4.41 / tokenizers 0.19 misread."
    cfg = json.loads((d/'config.json').read_text())      # transformers 5 writes rope_parameters; 4.41 reads rope_theta
    rp = cfg.get('rope_parameters') or {}
    assert rp.get('rope_type', 'default') == 'default', rp
    cfg.update(rope_theta=rp.get('rope_theta', cfg.get('rope_theta')), torch_dtype='float32')
    (d/'config.json').write_text(json.dumps(cfg, indent=2))
    tc = json.loads((d/'tokenizer_config.json').read_text())   # 'TokenizersBackend' is a transformers 5 class
    tc.update(tokenizer_class='PreTrainedTokenizerFast', model_input_names=['input_ids', 'attention_mask']); tc.pop('backend', None)
    (d/'tokenizer_config.json').write_text(json.dumps(tc, indent=2))
    tj = json.loads((d/'tokenizer.json').read_text())      # tokenizers < 0.20 reads BPE merges as 'a b' strings only
    assert not any(' ' in x for m in tj['model']['merges'] if not isinstance(m, str) for x in m)
    tj['model']['merges'] = [m if isinstance(m, str) else ' '.join(m) for m in tj['model']['merges']]
    (d/'tokenizer.json').write_text(json.dumps(tj, ensure_ascii=False))

def prepare(a, wd):
    "Model directory readable by transformers 4.41, prunenet's perplexity windows, calibration data, prunenet's counts."
    from prunenet.models import load_model, save_pretrained
    from prunenet.data import wiki_text
    from prunenet.evaluate import perplexity
    from prunenet.baselines import calibration_ids
    from prunenet.adapters import param_count
    from prunenet.compress import compress
    model, tok = load_model()
    mdir = wd/'model'
    if not (mdir/'config.json').exists(): save_pretrained(model, tok, mdir, overwrite=True, extra=for_transformers4)
    windows = []   # the batches prunenet's perplexity feeds the model, caught on their way in
    hook = model.register_forward_pre_hook(lambda m, args, kw: windows.append((args[0] if args else kw['input_ids']).clone()), with_kwargs=True)
    test = wiki_text('test')
    dense = perplexity(model, tok, test, max_windows=a.windows)
    hook.remove()
    counts = {}
    for r in a.match_ffn:
        m, _ = load_model(); compress(m, r, mode='random', seed=0, progress=False); counts[r] = param_count(m)
    inp = dict(model_dir=str(mdir), windows=windows, test_text=test[:200_000], calib_ids=calibration_ids(tok),
               calib_lines=wiki_text('calibration').split('\n'))
    torch.save(inp, wd/'inputs.pt')
    return dict(prunenet_dense=dense, params_dense=param_count(model), prunenet_ffn_params=counts)

def speed_job(done:dict, threads:int) -> dict:
    "The job that times every sliced width in `done` (and dense) in one process; earlier speed jobs are dropped from `done`: the newest timing replaces them."
    for k in [k for k, r in done.items() if r['kind'] == 'speed']: del done[k]
    dims = sorted({r['dim'] for r in done.values() if r['kind'] == 'slice'})
    if not dims: raise SystemExit('--speeds: no sliced model in the results file to time')
    return dict(kind='speed', dims=dims, threads=threads)

def merge(out:Path, files:list):
    "Add the finished jobs of `files` to `out` (or start it from the first; a job in both: the file's), refusing results of another commit or model."
    base = json.loads((out if out.exists() else files[0]).read_text())
    runs, meta = {r['key']: r for r in base['runs']}, base['meta']
    for f in files:
        d = json.loads(f.read_text())
        for k in ('slicegpt_commit', 'params_dense', 'windows', 'cli_defaults'):
            if d['meta'][k] != meta[k]: raise SystemExit(f"{f}: {k} is {d['meta'][k]!r}, not {meta[k]!r} as in {out}: not merged")
        if any(r['kind'] == 'speed' for r in d['runs']):     # one speed job: theirs replaces ours
            runs = {k: r for k, r in runs.items() if r['kind'] != 'speed'}
        new = [r for r in d['runs'] if r['key'] not in runs]
        redone = [r for r in d['runs'] if r['key'] in runs and r != runs[r['key']]]     # e.g. run again there with --redo: theirs win
        runs |= {r['key']: r for r in new + redone}
        meta['prunenet_ffn_params'] = meta.get('prunenet_ffn_params', {}) | d['meta'].get('prunenet_ffn_params', {})
        print(f'{f}: {len(new)} jobs added, {len(redone)} replaced by theirs')
    out.write_text(json.dumps(dict(meta=meta, runs=list(runs.values())), indent=1) + '\n')

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--checkout', help="SliceGPT's checkout (microsoft/TransformerCompression)")
    ap.add_argument('--python', help="the side venv's python (SliceGPT's requirements)")
    ap.add_argument('--ratios', type=float, nargs='*', default=[0.2, 0.25, 0.3], help='SliceGPT slicing ratios (its --sparsity)')
    ap.add_argument('--calibrations', nargs='*', default=['slicegpt', 'prunenet'], choices=['slicegpt', 'prunenet'])
    ap.add_argument('--match-ffn', type=float, nargs='*', default=[0.2, 0.25, 0.3],
                    help="also slice to the parameter count prunenet's FFN pruning reaches at these ratios")
    ap.add_argument('--match-calibrations', nargs='*', default=['prunenet'], choices=['slicegpt', 'prunenet'])
    ap.add_argument('--windows', type=int, default=20)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--workdir', default=None, help='model copy and inputs (default: prunenet cache/slicegpt_bench)')
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'slicegpt.json'))
    ap.add_argument('--redo', action='store_true')
    ap.add_argument('--speeds', action='store_true', help="time dense and every sliced width in --out again, in one process (a 'speed' "
                    "job, replacing any earlier one; the table's SliceGPT speeds come from it: rows sliced in other sessions were timed on "
                    "other machines), and run no slicing job")
    ap.add_argument('--merge', nargs='+', metavar='JSON', help="only add these results files' finished jobs to --out (jobs run in "
                    "parallel, each with its own --workdir and --out) and stop; they must come from the same SliceGPT commit and model")
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--job', help=argparse.SUPPRESS); ap.add_argument('--result', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker: return worker(a)
    if a.merge: return merge(Path(a.out), [Path(f) for f in a.merge])
    if not a.checkout: ap.error('--checkout is required (except with --merge)')
    if a.speeds and a.redo: ap.error('--speeds times the widths already in --out: without --redo')
    torch.set_num_threads(a.threads)
    from prunenet.core import cache_dir
    wd = Path(a.workdir or cache_dir()/'slicegpt_bench'); wd.mkdir(parents=True, exist_ok=True)
    out = Path(a.out)
    old = json.loads(out.read_text()) if out.exists() and not a.redo else {}
    done = {r['key']: r for r in old.get('runs', [])}
    ck = Path(a.checkout).resolve()
    py = a.python or sys.executable
    commit = subprocess.run(['git', '-C', str(ck), 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip()
    vers = subprocess.run([py, '-c', "import torch, transformers, datasets, numpy, accelerate; print(' '.join(m.__name__ + '=' + m.__version__ "
                           "for m in (torch, transformers, datasets, numpy, accelerate)))"], capture_output=True, text=True).stdout.strip()
    import transformers
    meta = dict(slicegpt_commit=commit, side_venv=vers, main_venv=f'torch={torch.__version__} transformers={transformers.__version__}',
                threads=a.threads, cpu_count=os.cpu_count(), cli_defaults=CLI, dtype='float32', windows=a.windows,
                **prepare(a, wd))
    meta['prunenet_ffn_params'] = {float(k): v for k, v in old.get('meta', {}).get('prunenet_ffn_params', {}).items()} | meta['prunenet_ffn_params']   # earlier runs' --match-ffn too
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads), HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1',
               TOKENIZERS_PARALLELISM='false', WANDB_MODE='disabled')
    def run(job):
        key = json.dumps(job, sort_keys=True)
        if key in done: return done[key]
        res = wd/'result.json'; res.unlink(missing_ok=True)
        t0 = time.perf_counter()
        p = subprocess.run([py, __file__, '--worker', '--checkout', str(ck), '--workdir', str(wd), '--threads', str(a.threads),
                            '--job', json.dumps(job), '--result', str(res)], env=env)
        if p.returncode: raise SystemExit(f'job {job} failed (exit {p.returncode})')
        r = dict(json.loads(res.read_text()), key=key, wall_s=time.perf_counter() - t0)
        done[key] = r; save()
        return r
    def save():
        for r in done.values():
            if 'params_fused' in r and r['kind'] == 'slice':     # removed share of the dense (tied) model, and SliceGPT's own 'sliced fraction'
                r.update(removed_vs_dense=1 - r['params'] / meta['params_dense'], sliced_fraction_slicegpt=1 - r['params'] / r['params_fused'])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(dict(meta=meta, runs=list(done.values())), indent=1) + '\n')
    h = 576
    dense = run(dict(kind='dense'))
    meta['dense_check'] = dict(prunenet=meta['prunenet_dense']['perplexity'], slicegpt_venv=dense['ppl'], slicegpt_fused=dense['ppl_fused'],
                               agree_4_digits=f"{meta['prunenet_dense']['perplexity']:.4g}" == f"{dense['ppl']:.4g}")
    if a.speeds:
        r = run(speed_job(done, a.threads))
        wrong = {x['dim'] for x in done.values() if x['kind'] == 'slice' and r['widths'][str(x['dim'])]['params'] != x['params']}
        if wrong:
            del done[r['key']]; save()
            raise SystemExit(f'--speeds: the timed models at widths {sorted(wrong)} differ in size from the sliced ones: not kept')
        for d, x in r['widths'].items():
            print(f"dim {d}: prefill {x['prefill_tokens'] / x['prefill_cpu_s']:.1f} tok/s, decode {x['decode_tok_per_cpu_s']:.2f} tok/s "
                  f"({x['decode_tok_per_cpu_s'] / r['dense']['decode_tok_per_cpu_s']:.3f} x dense)", flush=True)
        return save()
    jobs = []
    for cal in a.calibrations:
        for s in a.ratios:
            d = int((1 - s) * h); d -= d % CLI['round_interval']     # run_slicegpt.py's rounding
            jobs.append(dict(kind='slice', calibration=cal, sparsity=s, dim=d))
    if a.match_ffn:
        counts = run(dict(kind='count', dims=list(range(CLI['round_interval'], h + 1, CLI['round_interval']))))['counts']
        for r in a.match_ffn:
            target = meta['prunenet_ffn_params'][r]
            d = min(counts, key=lambda k: abs(counts[k] - target))
            for cal in a.match_calibrations:
                jobs.append(dict(kind='slice', calibration=cal, sparsity=round(1 - int(d) / h, 4), dim=int(d), match_ffn=r,
                                 target_params=target))
    for j in sorted(jobs, key=lambda j: j['calibration'] != 'prunenet'):     # the small calibration first: it takes minutes, not hours
        r = run(j)
        print(f"{j['calibration']:9s} sparsity {j['sparsity']:.4f} dim {j['dim']}: params {r['params']:,} "
              f"({1 - r['params'] / meta['params_dense']:.1%} of the dense model's removed) ppl {r['ppl']:.2f} slicing {r['slicing_s']:.0f}s", flush=True)
    save()

if __name__ == '__main__': main()
