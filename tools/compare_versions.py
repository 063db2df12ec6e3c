"""Does a refactor change behaviour? Run the package as it is and as it was at an earlier commit, side by side in one
process, on the same model, and compare what each method chooses and what the pruned model computes.

    python tools/compare_versions.py REV [--ratio 0.2] [--seed 0] [--modes paper,paper-exact,selfgen,random,calibrated]

The old package is taken from git (`git archive REV prunenet`) into a temporary directory as `prunenet_old` (its
`prunenet.` imports renamed), so both live in one interpreter: same thread count, same kernels, same inputs, which is
what an exact comparison needs (CONTRIBUTING.md, the rounding rule). Each mode runs with its defaults in both versions
(`paper-exact`: paper mode with numerics='exact'); the units must be identical, the pruned weights identical, and the
perplexity on 20 windows of the test split (measured by today's `perplexity` for both) equal. Exit status 1 on any difference.
"""
import argparse, copy, io, json, re, subprocess, sys, tarfile, tempfile, time
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parent.parent
MODES = {'paper': ('paper', {}), 'paper-exact': ('paper', dict(numerics='exact')), 'selfgen': ('selfgen', {}),
         'random': ('random', {}), 'calibrated': ('calibrated', {})}

def old_package(rev:str, into:Path):
    "Unpack `prunenet/` at `rev` into `into/prunenet_old`, its imports of prunenet renamed."
    data = subprocess.run(['git', '-C', str(ROOT), 'archive', rev, 'prunenet'], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as t: t.extractall(into)
    (into/'prunenet').rename(into/'prunenet_old')
    for p in (into/'prunenet_old').glob('*.py'):
        s = p.read_text()
        s = re.sub(r'\bprunenet\.(?=[a-z_])', 'prunenet_old.', s)
        s = re.sub(r'^(\s*)import prunenet\s*$', r'\1import prunenet_old', s, flags=re.M)
        p.write_text(s)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('rev'); ap.add_argument('--ratio', type=float, default=0.2); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--modes', default=','.join(MODES)); ap.add_argument('--windows', type=int, default=20)
    ap.add_argument('--out', default=None, help='write the comparison as JSON here')
    a = ap.parse_args()
    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix='prunenet-old-'))
    old_package(a.rev, tmp)
    sys.path.insert(0, str(tmp))
    import prunenet_old.compress as old
    import prunenet.compress as new
    from prunenet.models import load_model
    from prunenet.data import wiki_text
    from prunenet.evaluate import perplexity
    if hasattr(old, 'methods'): old.methods()                      # old versions load their methods on first use
    model, tok = load_model()
    text, rows, ok = wiki_text('test'), [], True
    for name in a.modes.split(','):
        mode, kw = MODES[name]
        res = {}
        for label, pkg in (('old', old), ('new', new)):
            t0 = time.perf_counter()
            r = pkg.compress(copy.deepcopy(model), a.ratio, mode, tokenizer=tok, seed=a.seed, progress=False, **kw)
            res[label] = (r, perplexity(r.model, tok, text, max_windows=a.windows)['perplexity'], time.perf_counter() - t0)
        (ro, po, so), (rn, pn, sn) = res['old'], res['new']
        same_units = ro.report.keep == rn.report.keep
        so_, sn_ = ro.model.state_dict(), rn.model.state_dict()
        same_weights = so_.keys() == sn_.keys() and all(torch.equal(so_[k], sn_[k]) for k in so_)
        row = dict(mode=name, ratio=a.ratio, seed=a.seed, same_units=same_units, same_weights=same_weights, ppl_old=po, ppl_new=pn,
                   same_ppl=po == pn, data_old=ro.report.data, data_new=rn.report.data, seconds_old=so, seconds_new=sn)
        ok &= same_units and same_weights and po == pn
        rows.append(row)
        print(json.dumps(row), flush=True)
    if a.out: Path(a.out).write_text(json.dumps(dict(rev=a.rev, rows=rows, threads=1, torch=torch.__version__), indent=1) + '\n')
    print('same behaviour' if ok else 'BEHAVIOUR CHANGED')
    sys.exit(0 if ok else 1)

if __name__ == '__main__': main()
