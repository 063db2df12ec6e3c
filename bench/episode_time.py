"""Time per policy-training episode on the default model, beside its floor.

Implementations of the same algorithm (1/KS reward, a discounted AdamW step after every layer, noise re-sampled at
loss time), differing only in cost:
  - a straightforward authors-style loop: deep copy of the model per episode, literal O(d_ff^2 d) policy, full
    torch.svd of the original and the sliced matrix at every layer, KS from SciPy, slicing the copy;
  - prunenet paper mode, sampling='layer' (each layer drawn after the previous layer's step);
  - prunenet paper mode, sampling='episode' (the authors' order: all layers drawn at the episode's start, then the
    steps; rewards on `workers` threads).
Both prunenet rows in exact float32 numerics (numerics='exact'); the authors' float16 numerics cost more (the
literal O(d_ff^2 d) policy, notebooks 05 and 10a).
Floors: the 30 eigenvalue problems alone (LAPACK, one after the other and on `workers` threads), their two LAPACK
stages timed separately (ssytrd, ssterf), and the arithmetic and cache-traffic bounds of the reduction.
Quality: both engines trained 20 episodes for 3 seeds, units drawn as paper mode does, perplexity with the other
units masked (test split, --windows windows): do the two orders learn the same thing?

Usage: python bench/episode_time.py [--episodes 10] [--episodes-authors 3] [--repeats 3] [--ratio 0.1] [--windows 6] [--no-quality]
       [--out bench/results/episode_time.json]
"""
import argparse, copy, json, os, platform, statistics, time
from pathlib import Path
import numpy as np, scipy.stats, scipy.linalg, scipy.linalg.lapack as lapack, torch
from prunenet.models import load_model
from prunenet.data import wiki_text
from prunenet.adapters import ffn_blocks, ffn_shape, n_keep
from prunenet.core import map_threads
from prunenet.spectral import gram, kept_gram, spectrum_from_gram
from prunenet.compress import CompressSettings
from prunenet.train import train_policy, select_units
from prunenet.policy import PrunePolicy
from prunenet.evaluate import masked_perplexity

def authors_style_episode(model, policy, opt, k, gamma=0.99, g=None):
    "One episode as the authors' code structures it (costs included), with the same update rule."
    work = copy.deepcopy(model)                                   # a copy of the model per episode
    total = 0.0
    for l, block in enumerate(ffn_blocks(work)):
        W = block.state_matrix().detach()
        def probs():                                              # literal policy: W' = W W_inter^T + b, then w_proj
            z = policy.logits(W, literal=True)                    # (logit(sigmoid(z)) = z: stable, same cost)
            eps = torch.rand(z.shape, generator=g).clamp(1e-6, 1 - 1e-6)
            return torch.sigmoid(z + torch.logit(eps))
        with torch.no_grad(): keep = torch.multinomial(probs(), k, replacement=False, generator=g).sort().values
        s_orig = torch.svd(W).S                                   # full SVD of the original, every time
        s_new = torch.svd(W[keep]).S
        ks = scipy.stats.ks_2samp(s_orig.numpy(), s_new.numpy()).statistic
        r = (1 / ks if ks > 0 else 99999.) * gamma ** l
        block.keep_(keep)                                         # slice the copy
        loss = -r * torch.log(probs()[keep]).sum()                # re-sampled noise at loss time
        opt.zero_grad(); loss.backward(); opt.step()
        total += r
    return total

def timed(f, reps=5):
    "Median wall time of f() over `reps` runs after one warm-up run."
    f(); ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)

def floors(Ws, k, workers):
    "Measured cost of the episode's 30 eigenvalue problems and the physical bounds of their reduction."
    L, d_ff, d = Ws.shape
    G = gram(Ws)
    gen = torch.Generator().manual_seed(0)
    kept = [kept_gram(G[l], Ws[l], torch.randperm(d_ff, generator=gen)[:k].sort().values) for l in range(L)]
    one = timed(lambda: [spectrum_from_gram(x) for x in kept])
    n = torch.get_num_threads(); torch.set_num_threads(1)
    try: one_1t = timed(lambda: [spectrum_from_gram(x) for x in kept])      # does a second thread help one problem?
    finally: torch.set_num_threads(n)
    par = timed(lambda: list(map_threads(spectrum_from_gram, kept, workers)))
    a = kept[0].numpy()
    lwork = int(lapack.ssytrd_lwork(d)[0])                                  # the blocked reduction needs its workspace
    _, dg, e, _, _ = lapack.ssytrd(a, lwork=lwork)
    sytrd = timed(lambda: lapack.ssytrd(a, lwork=lwork), 20)
    sterf = timed(lambda: lapack.ssterf(dg, e), 20)
    full = timed(lambda: scipy.linalg.eigvalsh(a, driver='evd', check_finite=False), 20)
    flops = L * 4 / 3 * d ** 3                                    # Householder tridiagonal reduction, eigenvalues only
    l2_bytes = L * d ** 3 / 6 * 4                                 # its symv half reads the trailing lower triangle each step
    return dict(eig_one_by_one_s=one, eig_one_by_one_1_thread_s=one_1t, eig_threads_s=par, ssytrd_ms_per_matrix=sytrd * 1e3,
                ssterf_ms_per_matrix=sterf * 1e3, scipy_eigvalsh_ms_per_matrix=full * 1e3,
                reduction_gflop=flops / 1e9, reduction_l2_gbytes=l2_bytes / 1e9)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--episodes', type=int, default=10, help='timed episodes of each prunenet engine (after one warm-up episode)')
    ap.add_argument('--episodes-authors', type=int, default=3)
    ap.add_argument('--repeats', type=int, default=3, help='rounds of all timings (this machine varies from minute to minute)')
    ap.add_argument('--ratio', type=float, default=0.1)
    ap.add_argument('--windows', type=int, default=6, help='perplexity windows for the quality comparison')
    ap.add_argument('--no-quality', action='store_true')
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'episode_time.json'))
    a = ap.parse_args()
    load_start = os.getloadavg()
    model, tok = load_model()
    shape = ffn_shape(model); k = n_keep(a.ratio, shape.d_ff)
    states = [b.state_matrix().detach() for b in ffn_blocks(model)]
    workers = CompressSettings.for_mode(a.ratio, 'paper').workers
    Ws = torch.stack([s.float() for s in states])

    rounds = []
    for _ in range(a.repeats):                                    # each round times everything once, interleaved
        r = {}
        for smp in ('layer', 'episode'):
            s = CompressSettings.for_mode(a.ratio, 'paper', episodes=a.episodes + 1, seed=0, sampling=smp, numerics='exact')
            r[smp] = statistics.median(train_policy(states, k, s, progress=False)[1].episode_seconds[1:])   # 1st: warm-up
        policy = PrunePolicy(shape.d_model, shape.d_ff, seed=0)
        opt, g, authors = torch.optim.AdamW(policy.parameters(), lr=1e-3), torch.Generator().manual_seed(0), []
        for _ in range(a.episodes_authors):
            t0 = time.perf_counter(); authors_style_episode(model, policy, opt, k, g=g); authors.append(time.perf_counter() - t0)
        r['authors_loop'] = statistics.median(authors)
        r.update(floors(Ws, k, workers))
        rounds.append(r)

    quality = []
    if not a.no_quality:
        text = wiki_text('test')
        for seed in (0, 1, 2):
            for smp in ('layer', 'episode'):
                s = CompressSettings.for_mode(a.ratio, 'paper', seed=seed, sampling=smp, numerics='exact')
                pol, hist = train_policy(states, k, s, progress=False)
                keep = select_units(pol, states, k, s.selection, s.seed)
                quality.append(dict(sampling=smp, seed=seed, best_reward=max(hist.episode_rewards), best_episode=hist.best_episode,
                                    ppl=masked_perplexity(model, tok, keep, text, a.windows)))

    med = lambda key: statistics.median(r[key] for r in rounds)
    span = lambda key: (min(r[key] for r in rounds), max(r[key] for r in rounds))
    floor_of = dict(authors_loop='eig_one_by_one_s', layer='eig_one_by_one_s', episode='eig_threads_s')
    for r in rounds:
        for impl, f in floor_of.items(): r[f'{impl}_x_floor'] = r[impl] / r[f]
    res = dict(model='SmolLM2-135M-Instruct (default)', ratio=a.ratio, k=k, layers=shape.n_layers, d_model=shape.d_model,
               d_ff=shape.d_ff, workers=workers, episodes_timed=dict(authors_loop=a.episodes_authors, layer=a.episodes, episode=a.episodes),
               repeats=a.repeats, median={key: med(key) for key in rounds[0]}, rounds=rounds, quality=quality, windows=a.windows,
               torch_threads=torch.get_num_threads(), cpu_count=os.cpu_count(), torch=torch.__version__,
               python=platform.python_version(), machine=platform.machine(), load_avg_start=load_start, load_avg_end=os.getloadavg())
    print(f"median of {a.repeats} rounds (min-max over rounds)")
    print(f"{'implementation':58s} {'s / episode':>20s} {'x floor':>18s}")
    for impl, name in [('authors_loop', 'straightforward authors-style loop'),
                       ('layer', "prunenet paper mode, sampling='layer' (per-layer draws)"),
                       ('episode', f"prunenet paper mode, sampling='episode' (authors' order, {workers} workers)")]:
        (lo, hi), (flo, fhi) = span(impl), span(f'{impl}_x_floor')
        print(f"{name:58s} {med(impl):7.3f} ({lo:.3f}-{hi:.3f}) {med(impl + '_x_floor'):6.2f} ({flo:.2f}-{fhi:.2f})")
    print(f"\nfloors: 30 eigvalsh one after the other {med('eig_one_by_one_s'):.3f} s ({med('eig_one_by_one_1_thread_s'):.3f} s with "
          f"torch at 1 thread); on {workers} threads {med('eig_threads_s'):.3f} s")
    print(f"per matrix, OpenBLAS via SciPy: ssytrd {med('ssytrd_ms_per_matrix'):.1f} ms + ssterf {med('ssterf_ms_per_matrix'):.1f} ms "
          f"(eigvalsh {med('scipy_eigvalsh_ms_per_matrix'):.1f} ms)")
    print(f"reduction: {rounds[0]['reduction_gflop']:.2f} GFLOP and {rounds[0]['reduction_l2_gbytes']:.2f} GB of cache reads per episode")
    if quality:
        print(f"\nquality, 20 episodes, perplexity with masked units ({a.windows} test windows):")
        for q in quality: print(f"  sampling={q['sampling']!r:10} seed {q['seed']}: best reward {q['best_reward']:.1f} "
                                f"(episode {q['best_episode']}), perplexity {q['ppl']:.1f}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2) + '\n')

if __name__ == '__main__': main()
