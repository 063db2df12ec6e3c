"""Which switches change the rounding of what prunenet computes on this machine (issue 22): the evidence behind the
other-kernels pass of `make test-kernels`.

For each setting of the environment a fresh process (one thread) computes, on the default model:
the logits of a fixed 256-token input, the 64 x 128 tokens selfgen writes (seed 0), selfgen's units on that text
(selection only, its default training) and paper mode's units (exact numerics, 20 episodes, ratio 0.2, seed 0). Each
result is reduced to a SHA-256 of its bytes; a setting "changes" a result when its hash differs from the plain run's.
For the text, the position of the first differing token is recorded too.

`python bench/cpu_kernels.py` writes bench/results/cpu_kernels.json (about 4 minutes per setting at one thread, alone);
`--only NAME,...` reruns those settings and keeps the others' recorded runs.
"""
import hashlib, json, os, platform, re, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT/'bench'/'results'/'cpu_kernels.json'

def other_capability(cap:str) -> str:
    "A torch CPU capability below this machine's own (ATEN_CPU_CAPABILITY accepts default, avx2, avx512)."
    return {'AVX512': 'avx2', 'AVX512_BF16': 'avx2', 'AMX': 'avx2', 'AVX2': 'default'}.get(cap.upper(), 'default')

def settings(cap:str) -> dict:
    lower = other_capability(cap)
    return {'plain': {}, 'threads=2': dict(PROBE_THREADS='2'), f'ATEN_CPU_CAPABILITY={lower}': dict(ATEN_CPU_CAPABILITY=lower),
            'MKL_CBWR=COMPATIBLE': dict(MKL_CBWR='COMPATIBLE'), 'MKL_ENABLE_INSTRUCTIONS=AVX2': dict(MKL_ENABLE_INSTRUCTIONS='AVX2'),
            f'ATEN_CPU_CAPABILITY={lower} MKL_CBWR=COMPATIBLE': dict(ATEN_CPU_CAPABILITY=lower, MKL_CBWR='COMPATIBLE')}

def dumps(obj) -> str:
    "JSON indented for reading, with each list of numbers (token ids, units) on one line: the runs hold 800,000 of them."
    flat = lambda m: '[' + ', '.join(m.group(1).replace(',', ' ').split()) + ']'
    return re.sub(r'\[\s*([-\d.,\s]*?)\s*\]', flat, json.dumps(obj, indent=2))

def sha(t) -> str:
    import torch
    return hashlib.sha256(t.detach().cpu().contiguous().numpy().tobytes()).hexdigest()[:16]

def measure() -> dict:
    "Run in the child process: the hashes of this environment's results."
    import torch
    torch.set_num_threads(int(os.environ.get('PROBE_THREADS', '1')))
    from prunenet.models import load_model
    from prunenet.compress import choose_units
    from prunenet.signals import self_signal
    model, tok = load_model()
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 49152, (1, 256), generator=g)
    t0 = time.perf_counter()
    with torch.no_grad(): logits = model(x).logits
    sig = self_signal(model, tok, 64, 128, seed=0)
    t1 = time.perf_counter()
    sel = choose_units(model, 0.2, 'selfgen', tokenizer=tok, signal=sig, seed=0, compensate='none')
    t2 = time.perf_counter()
    pap = choose_units(model, 0.2, 'paper', seed=0, numerics='exact', episodes=20)
    t3 = time.perf_counter()
    units = lambda c: torch.stack([u.sort().values for u in c.keep])
    return dict(capability=torch.backends.cpu.get_cpu_capability(), logits=sha(logits), text=sha(sig.ids),
                text_ids=sig.ids.flatten().tolist(), selfgen_units=sha(units(sel)), paper_units=sha(units(pap)),
                selfgen_keep=units(sel).tolist(), paper_keep=units(pap).tolist(),
                seconds=dict(logits_text=t1 - t0, selfgen=t2 - t1, paper=t3 - t2))

def first_diff(a, b):
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)

def layers_differing(a, b): return sum(x != y for x, y in zip(a, b))

if __name__ == '__main__':
    if '--child' in sys.argv:
        print(json.dumps(measure())); sys.exit(0)
    import torch
    from prunenet.core import machine
    cap = torch.backends.cpu.get_cpu_capability()
    runs, only = {}, sys.argv[sys.argv.index('--only') + 1].split(',') if '--only' in sys.argv else None
    prev = json.loads(OUT.read_text())['runs'] if only and OUT.exists() else {}
    for name, env in settings(cap).items():
        if only and name not in only and name in prev: runs[name] = prev[name]; continue
        t0 = time.perf_counter()
        e = {k: v for k, v in os.environ.items() if k not in ('ATEN_CPU_CAPABILITY', 'MKL_CBWR', 'MKL_ENABLE_INSTRUCTIONS')}
        n = env.get('PROBE_THREADS', '1')
        e.update(env, OMP_NUM_THREADS=n, MKL_NUM_THREADS=n, HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false')
        r = subprocess.run([sys.executable, __file__, '--child'], env=e, capture_output=True, text=True, check=True)
        runs[name] = json.loads(r.stdout.strip().splitlines()[-1])
        print(name, {k: v for k, v in runs[name].items() if not k.endswith(('_ids', '_keep'))}, f'{time.perf_counter() - t0:.0f} s', flush=True)
    base = runs['plain']
    table = {}
    for name, r in runs.items():
        table[name] = dict(capability=r['capability'], **{k: r[k] != base[k] for k in ('logits', 'text', 'selfgen_units', 'paper_units')},
                           first_text_token_differing=first_diff(r['text_ids'], base['text_ids']),
                           selfgen_layers_differing=layers_differing(r['selfgen_keep'], base['selfgen_keep']),
                           paper_layers_differing=layers_differing(r['paper_keep'], base['paper_keep']), seconds=r['seconds'])
    for name, row in table.items(): print(f'{name:50s}', row)
    OUT.write_text(dumps(dict(machine=dict(processor=platform.processor() or platform.machine(), capability=cap,
                                                torch=torch.__version__, cpu=machine()['cpu']),
                                   note='True: the result differs bitwise from the plain run (one thread each unless named, fresh process)',
                                   changes=table, date=time.strftime('%Y-%m-%d'), runs=runs)) + '\n')
