"""Pruned models in llama.cpp itself (issue 24): the round trip, and what pruning buys beside quantization.

Models: the default model dense, and pruned by the default method (seed 0) at 0.2 and 0.3, keeping the paper's
floor((1 - r) d_ff) units or a multiple of 32 (`--multiple-of 32`); a variant ending in `+rec` is then recovered by
notebook 10b's default (LoRA, distilled from the dense model on 64 x 128 tokens it writes; no data). Each is written by `prunenet.export.export_model` as
f32 (the round trip), f16 and q8_0, and quantized to q4_K_M by llama.cpp's own `llama-quantize` from the f16 file.
Measured with llama.cpp's tools, built by tools/llamacpp.sh (its VERSION file is recorded):
- the round trip: `llama-completion` greedy continuations (--temp 0) of a few prompts from the f32 file against
  transformers' greedy continuation of the same pruned model, as text;
- `llama-perplexity` on the test split of the offline Wikipedia text written to a file (-c 256, 20 chunks; llama.cpp
  scores the second half of each chunk, so its figures are to be compared with each other, not with prunenet's);
- `llama-bench` (-p 128 -n 64, --reps per round, --threads) on every file in --rounds rounds, each in another order; each
  speed is the median over the rounds, with their min and max. On a machine whose speed drifts (measured here: files
  measured last in one pass 15-20 % slower than the same shapes earlier) one pass in a fixed order would favour the
  first files; the two models of equal shapes in the default run (0.3 x 32 with and without recovery) show what noise
  is left;
- file sizes, and the ratio of bytes read per generated token (`decode_bytes`): the speed-up a decode bound by memory
  alone would get (a reference: where the arithmetic counts too, the measured speed-up can exceed it).

    python bench/llamacpp.py [--threads 2] [--reps 2] [--rounds 6]   (writes bench/results/llamacpp.json; about 25 minutes)
    python bench/llamacpp.py --rederive --work DIR         (recompute the byte counts of a recorded run from its files in DIR)
    python bench/llamacpp.py --rebench --work DIR          (measure the speeds of a recorded run again, from its files in DIR)
    python bench/llamacpp.py --model gemma --variants 0.2x32 0.3x1 0.3x32 --out bench/results/llamacpp_gemma.json
                                                           (Gemma 3 270M, the packaged GGUF: prunenet.models.gemma_gguf)
"""
import argparse, copy, json, os, re, statistics, subprocess, tempfile, time
from pathlib import Path
import torch

RESULTS = Path(__file__).resolve().parent/'results'
PROMPTS = ['The capital of France is', 'In 1905, Albert Einstein', 'The best way to learn a language is']

def llama_bin() -> Path:
    from prunenet.core import cache_dir
    b = cache_dir()/'llama.cpp'/'bin'
    if not (b/'llama-bench').exists(): raise SystemExit(f'no llama.cpp build in {b}: run tools/llamacpp.sh first')
    return b

def run(cmd, both:bool=False, **kw) -> str:
    "stdout of a llama.cpp tool (and its stderr, where it prints its results: `both`); exits with its error if it fails."
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if r.returncode: raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{r.stderr[-2000:]}")
    return r.stdout + (r.stderr if both else '')

def gguf_tensor_bytes(path) -> dict:
    "Bytes of every tensor in a GGUF file, and the tensor types."
    import gguf
    rd = gguf.GGUFReader(str(path))
    return {t.name: (int(t.n_bytes), t.tensor_type.name) for t in rd.tensors}

def decode_bytes(path) -> int:
    """Bytes a decode step reads: every tensor, but the token embedding table only where the file has its own output
    matrix (then one row of the table is read per token); where it has none (tied embeddings, as SmolLM2 and Gemma 3),
    llama.cpp multiplies by the whole table to get the logits."""
    t = gguf_tensor_bytes(path)
    return sum(b for n, (b, _) in t.items() if n != 'token_embd.weight' or 'output.weight' not in t)

def vs_dense(rows):
    "Each row's size, bytes read per token and speeds as ratios to the dense file of its type (in place)."
    for r in rows:
        d = next(x for x in rows if x['model'] == 'dense' and x['type'] == r['type'])
        r.update(size_vs_dense=r['MiB'] / d['MiB'], bytes_ratio=d['decode_bytes'] / r['decode_bytes'],
                 pp_vs_dense=r['pp128'] / d['pp128'], tg_vs_dense=r['tg64'] / d['tg64'])
        r['tg_vs_bytes_ratio'] = r['tg_vs_dense'] / r['bytes_ratio']

def recorded_files(out:dict, work) -> list:
    "The GGUF file of each row of the recorded run `out`, in `work`; exits unless each is there with the size recorded."
    files = [Path(work)/r['file'] for r in out['rows']]
    for f, r in zip(files, out['rows']):
        if not f.exists() or abs(f.stat().st_size / 2**20 - r['MiB']) > 1e-9: raise SystemExit(f'{f} is not the file this run measured')
    return files

def bench_speeds(b, files, reps, threads, rounds) -> dict:
    """`llama-bench` prompt (128) and generation (64) tokens/s of each file, measured in `rounds` rounds of `reps` repetitions,
    each round over every file in another order (rotated, every other one reversed): each speed is the median over the
    rounds, and its spread the rounds' min and max (kept). A machine whose speed drifts during the run then slows every
    file alike instead of the last ones."""
    per = {Path(f).name: {'pp128': [], 'tg64': []} for f in files}
    for i in range(rounds):
        k = (i * len(files)) // rounds
        order = files[k:] + files[:k]
        if i % 2: order = order[::-1]
        js = run([b/'llama-bench', *sum([['-m', f] for f in order], []), '-p', 128, '-n', 64, '-r', reps, '-t', threads, '-o', 'json'])
        for x in json.loads(js): per[Path(x['model_filename']).name]['pp128' if x['n_prompt'] else 'tg64'].append(x['avg_ts'])
    out = {}
    for name, v in per.items():
        out[name] = {}
        for k, xs in v.items():
            out[name] |= {k: statistics.median(xs), k + '_min': min(xs), k + '_max': max(xs), k + '_rounds': xs}
    return out

def rebench(path, work, reps, threads, rounds):
    "Measure the speeds of the recorded run `path` again from its GGUF files in `work` (each checked by its size), every round kept."
    out = json.loads(Path(path).read_text())
    sp = bench_speeds(llama_bin(), recorded_files(out, work), reps, threads, rounds)
    for r in out['rows']:
        for k in [k for k in r if k.startswith(('pp128', 'tg64'))]: del r[k]
        r.update(sp[r['file']])
    vs_dense(out['rows'])
    out.update(reps=reps, rounds=rounds, threads=threads, speeds_rebenched=time.strftime('%Y-%m-%d') + f': {rounds} rounds, medians')
    Path(path).write_text(json.dumps(out, indent=1, default=str) + '\n')
    for r in out['rows']: print(r['model'], r['type'], f"generation {r['tg_vs_dense']:.3f}x dense ({r['tg64']:.1f} t/s, rounds {r['tg64_min']:.1f}-{r['tg64_max']:.1f}), "
                                f"{r['tg_vs_bytes_ratio']:.3f} of the bytes ratio")

def rederive(path, work):
    "Recompute `decode_bytes` and the ratios of the recorded run `path` from its GGUF files in `work` (each checked by its size)."
    out = json.loads(Path(path).read_text())
    for r, f in zip(out['rows'], recorded_files(out, work)): r['decode_bytes'] = decode_bytes(f)
    vs_dense(out['rows'])
    out['decode_bytes_rederived'] = time.strftime('%Y-%m-%d') + ': tied embeddings (no output.weight) counted whole, as llama.cpp reads them for the logits'
    Path(path).write_text(json.dumps(out, indent=1, default=str) + '\n')
    for r in out['rows']: print(r['model'], r['type'], f"bytes ratio {r['bytes_ratio']:.3f}, decode {r['tg_vs_dense']:.3f}x dense, {r['tg_vs_bytes_ratio']:.3f} of the bytes ratio")

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--reps', type=int, default=2, help='llama-bench repetitions per file and round')
    ap.add_argument('--rounds', type=int, default=6, help='rounds of llama-bench over every file, each in another order')
    ap.add_argument('--new-tokens', type=int, default=32)
    ap.add_argument('--model', default=None, help="what load_model loads (default: the default model); 'gemma': Gemma 3 270M")
    ap.add_argument('--variants', nargs='+', default=['0.2x1', '0.2x32', '0.3x1', '0.3x32', '0.2x32+rec', '0.3x32+rec'],
                    help="RATIOxMULTIPLE pruned models besides dense; '+rec': then recovered (notebook 10b's default recipe, seed 0)")
    ap.add_argument('--out', default=str(RESULTS/'llamacpp.json'))
    ap.add_argument('--rederive', action='store_true', help='recompute the byte counts of the recorded --out from its files in --work')
    ap.add_argument('--rebench', action='store_true', help='measure the speeds of the recorded --out again from its files in --work')
    ap.add_argument('--work', default=None)
    a = ap.parse_args()
    if a.rederive: return rederive(a.out, a.work)
    if a.rebench: return rebench(a.out, a.work, a.reps, a.threads, a.rounds)
    torch.set_num_threads(a.threads)
    from prunenet.core import machine
    from prunenet.models import load_model, gemma_gguf
    from prunenet.compress import compress
    from prunenet.export import export_model
    from prunenet.data import wiki_text
    from prunenet.evaluate import perplexity
    b, t0 = llama_bin(), time.perf_counter()
    version = (b.parent/'VERSION').read_text()
    src = gemma_gguf() if a.model == 'gemma' else a.model
    dense, tok = load_model(src)
    tok_from = src if str(src).endswith('.gguf') else None     # a GGUF model's tokenizer is copied from its file (notebook 09)
    work = Path(tempfile.mkdtemp(prefix='prunenet-llamacpp-'))
    text = wiki_text('test')
    (work/'test.txt').write_text(text)
    models = {'dense': (0.0, 1, False)}
    for v in a.variants:
        spec = re.fullmatch(r'([\d.]+)x(\d+)(\+rec)?', v)
        if not spec: raise SystemExit(f'--variants: {v!r} is not RATIOxMULTIPLE[+rec], e.g. 0.3x32 or 0.3x32+rec')
        models[f'{spec[1]} x {spec[2]}' + (' + recovery' if spec[3] else '')] = (float(spec[1]), int(spec[2]), bool(spec[3]))
    rows, trips, pool, recoveries = [], [], None, {}
    for name, (r, m, rec) in models.items():
        model = copy.deepcopy(dense)
        if r: compress(model, r, tokenizer=tok, progress=False, seed=0, multiple_of=m)
        if rec:                                          # the dense model's text and logits, written once for every recovery
            from prunenet.recover import recover, training_pool, RecoverSettings
            pool = pool or training_pool(RecoverSettings.for_recipe(None), tok, dense)
            rv = recover(model, tok, dense, progress=False, prepared=pool)
            model = rv.model
            recoveries[name] = dict(settings=rv.settings, data=rv.data, seconds=rv.seconds, first_loss=rv.losses[0], last_loss=rv.losses[-1])
        d_ff = model.config.get_text_config().intermediate_size
        ppl_hf = perplexity(model, tok, text, max_windows=20)['perplexity']
        files = {}
        for ty in ('f32', 'f16', 'q8_0'):
            files[ty] = export_model(model, tok, work/f'{name.replace(" ", "")}-{ty}.gguf', ty, tokenizer_from=tok_from).path
        files['q4_K_M'] = work/f'{name.replace(" ", "")}-q4_K_M.gguf'
        run([b/'llama-quantize', files['f16'], files['q4_K_M'], 'Q4_K_M', str(a.threads)])
        if name == 'dense' or r == 0.3:          # the round trip: greedy text, llama.cpp against transformers
            for p in PROMPTS:
                ids = tok(p, return_tensors='pt').input_ids
                with torch.no_grad(): out = model.generate(ids, max_new_tokens=a.new_tokens, do_sample=False, pad_token_id=tok.eos_token_id)
                hf = tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
                lc = run([b/'llama-completion', '-m', files['f32'], '-p', p, '-n', a.new_tokens, '--temp', 0, '-no-cnv',
                          '--no-display-prompt', '-t', a.threads, '-s', 0, '--simple-io', '--no-warmup'], stdin=subprocess.DEVNULL)
                lc = lc.replace('[end of text]', '')          # what llama-completion prints where the model ends its text
                trips.append(dict(model=name, prompt=p, transformers=hf, llama_cpp=lc, same=lc.strip() == hf.strip()))
                print(name, repr(p), 'same' if trips[-1]['same'] else f'DIFFERENT:\n  hf: {hf!r}\n  lc: {lc!r}', flush=True)
        for ty, f in files.items():
            if ty == 'f32': continue
            out = run([b/'llama-perplexity', '-m', f, '-f', work/'test.txt', '-c', 256, '--chunks', 20, '-t', a.threads, '-b', 256], both=True)
            ppl = float(re.search(r'Final estimate: PPL = ([\d.]+)', out).group(1))
            types = {}
            for _, (nb, tt) in gguf_tensor_bytes(f).items(): types[tt] = types.get(tt, 0) + 1
            rows.append(dict(model=name, ratio=r, multiple_of=m, recovered=rec, d_ff=d_ff, type=ty, MiB=f.stat().st_size / 2**20, decode_bytes=decode_bytes(f),
                             tensor_types=types, ppl_llama=ppl, ppl_transformers=ppl_hf, file=str(f.name)))
            print(rows[-1], flush=True)
    sp = bench_speeds(b, [work/r['file'] for r in rows], a.reps, a.threads, a.rounds)
    for r in rows: r.update(sp[r['file']])
    vs_dense(rows)
    out = dict(about=__doc__.split('\n\n')[0], model=a.model or 'default (SmolLM2-135M-Instruct)', llama_cpp=version, threads=a.threads, reps=a.reps, rounds=a.rounds, round_trip=trips, rows=rows, recoveries=recoveries,
               seconds=time.perf_counter() - t0, machine=dict(cpu=machine()['cpu'],
                                                        cpus=os.cpu_count(), torch=torch.__version__))
    Path(a.out).write_text(json.dumps(out, indent=1, default=str) + '\n')
    import pandas as pd
    t = pd.DataFrame(rows)[['model', 'type', 'd_ff', 'MiB', 'size_vs_dense', 'ppl_llama', 'ppl_transformers', 'pp128', 'tg64', 'pp_vs_dense',
                            'tg_vs_dense', 'bytes_ratio', 'tg_vs_bytes_ratio']]
    print(t.round(3).to_markdown(index=False))
    print(f'round trip: {sum(x["same"] for x in trips)} of {len(trips)} greedy continuations equal; {out["seconds"]:.0f} s; wrote {a.out}')

if __name__ == '__main__': main()
