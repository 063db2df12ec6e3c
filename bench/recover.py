"""Recovery fine-tuning on the default model (notebook 10b): pruned at 0.3 and 0.2 by `selfgen`'s choice of units alone
(8 x 128 self-generated tokens, no refit: the default mode when these runs were recorded),
then recovered without data (`selfgen`: distillation on text the dense model writes; 3 seeds at 0.3, and the next-token
loss on the same text) and by the paper's recipe (LoRA on the calibration split), with the same budget; test-split
perplexity (20 windows) before and after, and the BIG-bench suite (50 items per task) at 0.3 (seed 0), and the CPU time.

It runs `prunenet.recover.recovery_runs`, the function the notebook's slow cell runs, at one CPU thread; finished runs are
kept in --out and skipped when the script is run again (delete the file to recompute).
Usage: python bench/recover.py [--out FILE]
"""
import argparse, os
os.environ.setdefault('OMP_NUM_THREADS', '1')
from pathlib import Path
import torch
from prunenet.models import load_model
from prunenet.recover import recovery_runs, RUN_RECIPES

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'recover.json'))
    a_ = ap.parse_args()
    torch.set_num_threads(1)
    model, tok = load_model()
    kd, ntp, paper = ({k: RUN_RECIPES[k]} for k in ('selfgen (kd)', 'selfgen (ntp)', 'paper (calibration, ntp)'))
    SEL = dict(compensate='none', gen_seqs=8)
    cache, run = {}, lambda *a, **k: recovery_runs(model, tok, *a, results=a_.out, progress=True, cache=cache, **k)
    run([('selfgen', 0.3, SEL)], {**kd, **paper}, seeds=(0,), items=50)        # before and after, with the BIG-bench suite
    run([('selfgen', 0.3, SEL)], kd, seeds=(1, 2))                             # the acceptance: 3 seeds
    run([('selfgen', 0.3, SEL)], ntp, seeds=(0,))                              # distillation or next-token loss, the same text
    df = run([('selfgen', 0.2, SEL)], {**kd, **paper}, seeds=(0,))
    print(df[['mode', 'ratio', 'recipe', 'seed', 'ppl', 'bigbench', 'cpu_s']].to_string(index=False))

if __name__ == '__main__': main()
