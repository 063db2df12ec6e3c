"""Recovery fine-tuning on the default model (notebook 10b): pruned at 0.3 and 0.2 by `selfgen`'s choice of units alone
(8 x 128 self-generated tokens, no refit: the default mode when these runs were recorded),
then recovered without data (`selfgen`: distillation on text the dense model writes; 3 seeds at 0.3, and the next-token
loss on the same text) and by the paper's recipe (LoRA on the calibration split), with the same budget; test-split
perplexity (20 windows) before and after, and the BIG-bench suite (50 items per task) at 0.3 (seed 0), and the CPU time.

It runs `prunenet.recover.recovery_runs`, the function the notebook's slow cell runs, at one CPU thread; finished runs are
kept in --out and skipped when the script is run again (delete the file to recompute).

--default: the same question after the default mode as it is now (64 x 128 tokens and the refit of notebook 11a): pruned
at 0.3 and 0.2 (seed 0), recovered by distillation on the dense model's text and by the paper's recipe (seed 0), with the
BIG-bench suite at 0.3; into results/recover_default.json.
Usage: python bench/recover.py [--default] [--out FILE]
"""
import argparse, os
os.environ.setdefault('OMP_NUM_THREADS', '1')
from pathlib import Path
import torch
from prunenet.models import load_model
from prunenet.recover import recovery_runs, RUN_RECIPES

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--default', action='store_true', help="prune with the default mode's settings (refit), not its choice alone")
    ap.add_argument('--out', default=None)
    a_ = ap.parse_args()
    a_.out = a_.out or str(Path(__file__).parent/'results'/('recover_default.json' if a_.default else 'recover.json'))
    torch.set_num_threads(1)
    model, tok = load_model()
    kd, ntp, paper = ({k: RUN_RECIPES[k]} for k in ('selfgen (kd)', 'selfgen (ntp)', 'paper (calibration, ntp)'))
    SEL = dict(compensate='none', gen_seqs=8)
    cache, run = {}, lambda *a, **k: recovery_runs(model, tok, *a, results=a_.out, progress=True, cache=cache, **k)
    if a_.default:                                                             # the default as it is now: + refit
        run([('selfgen', 0.3, {})], {**kd, **paper}, seeds=(0,), items=50)
        df = run([('selfgen', 0.2, {})], {**kd, **paper}, seeds=(0,))
        print(df[['mode', 'ratio', 'recipe', 'seed', 'ppl', 'bigbench', 'cpu_s']].to_string(index=False))
        return
    run([('selfgen', 0.3, SEL)], {**kd, **paper}, seeds=(0,), items=50)        # before and after, with the BIG-bench suite
    run([('selfgen', 0.3, SEL)], kd, seeds=(1, 2))                             # the acceptance: 3 seeds
    run([('selfgen', 0.3, SEL)], ntp, seeds=(0,))                              # distillation or next-token loss, the same text
    df = run([('selfgen', 0.2, SEL)], {**kd, **paper}, seeds=(0,))
    print(df[['mode', 'ratio', 'recipe', 'seed', 'ppl', 'bigbench', 'cpu_s']].to_string(index=False))

if __name__ == '__main__': main()
