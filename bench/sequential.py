"""Sequential against one-shot statistics for the default's refit (issue 26), on the default model.

For each seed and ratio, the default (`selfgen` + refit, ridge 0.3) chooses its units once; the same choice is then
refit two ways on copies of the model: from the dense model's Grams ('oneshot', today's default) and layer by layer
from the Grams of the model already pruned and refit below each layer ('sequential'). Perplexity on 20 windows of
the validation split (what the decision reads) and of the test split (what is reported), median over seeds 0-2.

Usage: python bench/sequential.py [--ratios 0.2 0.25 0.3] [--seeds 0 1 2] [--out bench/results/sequential.json]
"""
import argparse, copy, datetime, json, time
from pathlib import Path
import torch

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--ratios', type=float, nargs='+', default=[0.2, 0.25, 0.3])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--windows', type=int, default=20)
    ap.add_argument('--out', type=Path, default=Path(__file__).parent/'results'/'sequential.json')
    a = ap.parse_args()
    from prunenet.core import machine
    from prunenet.models import load_model
    from prunenet.data import wiki_text
    from prunenet.evaluate import perplexity
    from prunenet.signals import self_signal
    from prunenet.compress import choose_units, apply_choice_, versions
    model, tok = load_model()
    texts = {split: wiki_text(split) for split in ('validation', 'test')}
    rows = []
    for seed in a.seeds:
        t0 = time.perf_counter()
        sig = self_signal(model, tok, 64, 128, seed)
        print(f'seed {seed}: signal in {time.perf_counter() - t0:.0f} s', flush=True)
        for r in a.ratios:
            c = choose_units(model, r, seed=seed, signal=sig, tokenizer=tok)
            for stats in ('oneshot', 'sequential'):
                m = copy.deepcopy(model)
                c.settings.statistics = stats
                t0 = time.perf_counter(); apply_choice_(m, c, tok); t_refit = time.perf_counter() - t0
                ppl = {k: perplexity(m, tok, t, max_windows=a.windows)['perplexity'] for k, t in texts.items()}
                rows.append(dict(seed=seed, ratio=r, statistics=stats, refit_s=t_refit, **ppl))
                print(rows[-1], flush=True)
                del m
    import pandas as pd
    df = pd.DataFrame(rows)
    med = df.groupby(['ratio', 'statistics'])[['validation', 'test', 'refit_s']].median().unstack('statistics')
    print(med.round(2).to_string())
    wins = {str(r): bool(med.loc[r, ('validation', 'sequential')] < med.loc[r, ('validation', 'oneshot')]) for r in a.ratios}
    out = dict(settings=dict(ratios=a.ratios, seeds=a.seeds, windows=a.windows, text='wiki validation and test splits',
                             method='selfgen + refit (ridge 0.3), 64 x 128 self-generated tokens; the same units refit both ways'),
               runs=rows, sequential_wins_on_validation=wins, threads=torch.get_num_threads(), cpu=machine()['cpu'],
               versions=versions(), updated=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'))
    a.out.write_text(json.dumps(out, indent=1))
    print('wrote', a.out)

if __name__ == '__main__': main()
