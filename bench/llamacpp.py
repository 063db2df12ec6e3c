"""Pruned models in llama.cpp itself (issue 24): the round trip, and what pruning buys beside quantization.

Models: the default model dense, and pruned by the default method (seed 0) at 0.2 and 0.3, keeping the paper's
floor((1 - r) d_ff) units or a multiple of 32 (`--multiple-of 32`). Each is written by `prunenet.export.export_model` as
f32 (the round trip), f16 and q8_0, and quantized to q4_K_M by llama.cpp's own `llama-quantize` from the f16 file.
Measured with llama.cpp's tools, built by tools/llamacpp.sh (its VERSION file is recorded):
- the round trip: `llama-completion` greedy continuations (--temp 0) of a few prompts from the f32 file against
  transformers' greedy continuation of the same pruned model, as text;
- `llama-perplexity` on the test split of the offline Wikipedia text written to a file (-c 256, 20 chunks; llama.cpp
  scores the second half of each chunk, so its figures are to be compared with each other, not with prunenet's);
- `llama-bench` (-p 128 -n 64, --reps, --threads) on every file in one run, so the ratios to dense are side by side;
- file sizes, and the ratio of bytes read per generated token (`decode_bytes`) as the floor for a memory-bound decode.

    python bench/llamacpp.py [--threads 2] [--reps 5]      (writes bench/results/llamacpp.json; about 15 minutes)
    python bench/llamacpp.py --rederive --work DIR         (recompute the byte counts of a recorded run from its files in DIR)
    python bench/llamacpp.py --model gemma --variants 0.2x32 0.3x1 0.3x32 --out bench/results/llamacpp_gemma.json
                                                           (Gemma 3 270M, the packaged GGUF: prunenet.models.gemma_gguf)
"""
import argparse, copy, json, os, re, subprocess, tempfile, time
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

def rederive(path, work):
    "Recompute `decode_bytes` and the ratios of the recorded run `path` from its GGUF files in `work` (each checked by its size)."
    out = json.loads(Path(path).read_text())
    for r in out['rows']:
        f = Path(work)/r['file']
        if not f.exists() or abs(f.stat().st_size / 2**20 - r['MiB']) > 1e-9: raise SystemExit(f'{f} is not the file this run measured')
        r['decode_bytes'] = decode_bytes(f)
    vs_dense(out['rows'])
    out['decode_bytes_rederived'] = time.strftime('%Y-%m-%d') + ': tied embeddings (no output.weight) counted whole, as llama.cpp reads them for the logits'
    Path(path).write_text(json.dumps(out, indent=1, default=str) + '\n')
    for r in out['rows']: print(r['model'], r['type'], f"bytes ratio {r['bytes_ratio']:.3f}, decode {r['tg_vs_dense']:.3f}x dense, {r['tg_vs_bytes_ratio']:.3f} of the bytes ratio")

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--new-tokens', type=int, default=32)
    ap.add_argument('--model', default=None, help="what load_model loads (default: the default model); 'gemma': Gemma 3 270M")
    ap.add_argument('--variants', nargs='+', default=['0.2x1', '0.2x32', '0.3x1', '0.3x32'], help='RATIOxMULTIPLE pruned models besides dense')
    ap.add_argument('--out', default=str(RESULTS/'llamacpp.json'))
    ap.add_argument('--rederive', action='store_true', help='recompute the byte counts of the recorded --out from its files in --work')
    ap.add_argument('--work', default=None)
    a = ap.parse_args()
    if a.rederive: return rederive(a.out, a.work)
    torch.set_num_threads(a.threads)
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
    (work/'test.txt').write_text(wiki_text('test'))
    variants = [tuple(v.split('x')) for v in a.variants]
    models = {'dense': (0.0, 1)} | {f'{r} x {m}': (float(r), int(m)) for r, m in variants}
    rows, trips = [], []
    for name, (r, m) in models.items():
        model = copy.deepcopy(dense)
        if r: compress(model, r, tokenizer=tok, progress=False, seed=0, multiple_of=m)
        d_ff = model.config.get_text_config().intermediate_size
        ppl_hf = perplexity(model, tok, wiki_text('test'), max_windows=20)['perplexity']
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
            rows.append(dict(model=name, ratio=r, multiple_of=m, d_ff=d_ff, type=ty, MiB=f.stat().st_size / 2**20, decode_bytes=decode_bytes(f),
                             tensor_types=types, ppl_llama=ppl, ppl_transformers=ppl_hf, file=str(f.name)))
            print(rows[-1], flush=True)
    bench_files = [work/r['file'] for r in rows]
    js = run([b/'llama-bench', *sum([['-m', f] for f in bench_files], []), '-p', 128, '-n', 64, '-r', a.reps, '-t', a.threads, '-o', 'json'])
    for x in json.loads(js):
        row = next(r for r in rows if r['file'] == Path(x['model_filename']).name)
        row['pp128' if x['n_prompt'] else 'tg64'] = x['avg_ts']; row[('pp128' if x['n_prompt'] else 'tg64') + '_sd'] = x['stddev_ts']
    vs_dense(rows)
    out = dict(about=__doc__.split('\n\n')[0], model=a.model or 'default (SmolLM2-135M-Instruct)', llama_cpp=version, threads=a.threads, reps=a.reps, round_trip=trips, rows=rows,
               seconds=time.perf_counter() - t0, machine=dict(cpu=next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?'),
                                                        cpus=os.cpu_count(), torch=torch.__version__))
    Path(a.out).write_text(json.dumps(out, indent=1, default=str) + '\n')
    import pandas as pd
    t = pd.DataFrame(rows)[['model', 'type', 'd_ff', 'MiB', 'size_vs_dense', 'ppl_llama', 'ppl_transformers', 'pp128', 'tg64', 'pp_vs_dense',
                            'tg_vs_dense', 'bytes_ratio', 'tg_vs_bytes_ratio']]
    print(t.round(3).to_markdown(index=False))
    print(f'round trip: {sum(x["same"] for x in trips)} of {len(trips)} greedy continuations equal; {out["seconds"]:.0f} s; wrote {a.out}')

if __name__ == '__main__': main()
