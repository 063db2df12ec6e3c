"""The paper's table at small scale: the default model at the paper's ratios 0.2 / 0.25 / 0.3, rows dense, random
units, `paper` with the authors' numerics and with exact numerics, `selfgen` (its choice alone, and the default with its refit) and the calibrated reference (alone, and refit);
columns the offline BIG-bench suite's accuracies (test parts), their average, retention vs dense, perplexity.

It runs `prunenet.ablations.zero_shot_runs`, the function the ablations notebook's table cell runs; finished runs are
kept in --out and skipped when the script is run again (delete the file to recompute).
Usage: python bench/zeroshot.py [--ratios 0.2 0.25 0.3] [--seeds 0 1 2] [--items 50] [--windows 20] [--out FILE]
"""
import argparse
from pathlib import Path
import pandas as pd
from prunenet.models import load_model
from prunenet.ablations import zero_shot_runs, zero_shot_table, suite_chance
from prunenet.evaluate import BIGBENCH_SUITE

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ratios', type=float, nargs='+', default=[0.2, 0.25, 0.3])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--items', type=int, default=50)
    ap.add_argument('--windows', type=int, default=20)
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'zeroshot.json'))
    ap.add_argument('--markdown', action='store_true', help='print the table as markdown (for RESULTS.md)')
    a = ap.parse_args()
    model, tok = load_model()
    df = zero_shot_runs(model, tok, a.ratios, a.seeds, items=a.items, windows=a.windows, results=a.out)
    chance = suite_chance(a.items)
    t = zero_shot_table(df, chance).round(1).reset_index()
    print(f'suite: {", ".join(f"{t} ({m})" for t, m in BIGBENCH_SUITE.items())}; '
          f'{a.items} test items per task; chance on these items {chance:.1%}; {len(df)} runs')
    print(t.to_markdown(index=False) if a.markdown else t.to_string(index=False))

if __name__ == '__main__': main()
