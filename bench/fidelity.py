"""The authors' code as it ran vs the algorithm as written, over several policy initialisations (notebook 10a).

Rows (prunenet.fidelity.FIDELITY_ROWS): paper mode with the authors' numerics (float16 policy under CUDA autocast's
rules + dynamic loss scaler, the authors' order), with exact float32 numerics in the authors' order, with exact
numerics and per-layer draws (prunenet's paper mode before this change), the untrained policy (0 episodes), and
random units. Each seed fixes the policy's initialisation (built as the authors build theirs) and every draw.
Perplexity: the test split of the offline Wikipedia text, `windows` x 256 tokens, the chosen units masked.

    python bench/fidelity.py                      # ratio 0.1, 20 episodes, lr 1e-3, seeds 1-5, 20 windows
Writes bench/results/fidelity.json (read by notebook 10a) and prints the table.
"""
import argparse, json, time, platform, datetime
from dataclasses import asdict
from pathlib import Path
import torch

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--ratio', type=float, default=0.1)
    ap.add_argument('--episodes', type=int, default=20)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--seeds', default='1,2,3,4,5')
    ap.add_argument('--windows', type=int, default=20)
    ap.add_argument('--threads', type=int, default=torch.get_num_threads())
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'fidelity.json'))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from prunenet.models import load_model
    from prunenet.data import wiki_text
    from prunenet.evaluate import perplexity
    from prunenet.fidelity import fidelity_runs, FIDELITY_ROWS
    from prunenet.core import write_json
    import transformers
    t0 = time.perf_counter()
    model, tok = load_model()
    dense = perplexity(model, tok, wiki_text('test'), max_windows=a.windows)['perplexity']
    seeds = tuple(int(s) for s in a.seeds.split(','))
    table, hists = fidelity_runs(model, tok, a.ratio, seeds, a.episodes, a.lr, a.windows)
    keep = ('step_taken', 'step_scale', 'step_saturated', 'steps_taken', 'steps_skipped', 'saturated', 'final_saturated', 'best_episode')
    authors = next(iter(FIDELITY_ROWS))
    res = dict(settings=dict(ratio=a.ratio, episodes=a.episodes, lr=a.lr, seeds=list(seeds), windows=a.windows, seq_len=256,
                             threads=a.threads, rows=FIDELITY_ROWS, model='SmolLM2-135M-Instruct (default)'),
               dense_ppl=dense, runs=table.to_dict('records'),
               histories={f'seed {s}': {k: getattr(h, k) for k in keep} for (row, s), h in hists.items() if row == authors},
               seconds=time.perf_counter() - t0,
               machine=dict(python=platform.python_version(), torch=torch.__version__, transformers=transformers.__version__,
                            processor=platform.processor() or platform.machine()),
               created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'))
    write_json(a.out, res)
    print(f"dense perplexity {dense:.2f}; ratio {a.ratio}, {a.episodes} episodes, lr {a.lr}, seeds {list(seeds)}, {a.windows} windows")
    cols = ['row', 'seed', 'ppl', 'steps_taken', 'steps_tried', 'final_saturated', 'cos_v', 'same_removed', 'top_removed', 'star_kept']
    print(table[cols].round(4).to_string(index=False))
    print(table.groupby('row', sort=False)['ppl'].agg(['median', 'min', 'max']).round(1).to_string())
    print(f"{res['seconds']:.0f} s; written to {a.out}")

if __name__ == '__main__': main()
