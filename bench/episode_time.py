"""Time per policy-training episode on the default model: prunenet's paper mode against a straightforward
implementation of the authors' loop (deep copy of the model per episode, literal O(d_ff^2 d) policy, full
torch.svd of the original and the sliced matrix at every layer, KS from SciPy, slicing the copy layer by layer).

Both run the same algorithm (same reward, per-layer AdamW steps, re-sampled noise); only the cost differs.
Usage: python bench/episode_time.py [--episodes-fast 10] [--episodes-slow 3] [--ratio 0.1] [--out bench/results/episode_time.json]
"""
import argparse, copy, json, os, platform, statistics, time
from pathlib import Path
import torch, scipy.stats
from prunenet.models import load_model
from prunenet.adapters import ffn_blocks, ffn_shape, n_keep
from prunenet.compress import CompressSettings, train_policy
from prunenet.policy import PrunePolicy
from prunenet.reward import layer_discounts

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

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--episodes-fast', type=int, default=10)
    ap.add_argument('--episodes-slow', type=int, default=3)
    ap.add_argument('--ratio', type=float, default=0.1)
    ap.add_argument('--out', default=str(Path(__file__).parent/'results'/'episode_time.json'))
    a = ap.parse_args()
    model, _ = load_model()
    shape = ffn_shape(model); k = n_keep(a.ratio, shape.d_ff)
    states = [b.state_matrix().detach() for b in ffn_blocks(model)]

    s = CompressSettings.for_mode(a.ratio, 'paper', episodes=a.episodes_fast + 1, seed=0)
    _, hist = train_policy(states, k, s, progress=False)
    fast = hist.episode_seconds[1:]                               # first episode includes warm-up

    policy = PrunePolicy(shape.d_model, shape.d_ff, seed=0)
    opt = torch.optim.AdamW(policy.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    slow = []
    for _ in range(a.episodes_slow):
        t0 = time.perf_counter(); authors_style_episode(model, policy, opt, k, g=g); slow.append(time.perf_counter() - t0)

    f, sl = statistics.median(fast), statistics.median(slow)
    res = dict(model='SmolLM2-135M-Instruct (default)', ratio=a.ratio, k=k, layers=shape.n_layers, d_model=shape.d_model, d_ff=shape.d_ff,
               paper_mode_s_per_episode=f, authors_loop_s_per_episode=sl, speedup=sl / f,
               paper_mode_episodes=len(fast), authors_loop_episodes=len(slow), torch_threads=torch.get_num_threads(),
               cpu_count=os.cpu_count(), torch=torch.__version__, python=platform.python_version(), machine=platform.machine())
    print(f"{'implementation':42s} {'s / episode (median)':>22s}")
    print(f"{'straightforward authors-style loop':42s} {sl:22.2f}   ({len(slow)} episodes)")
    print(f"{'prunenet paper mode':42s} {f:22.2f}   ({len(fast)} episodes)")
    print(f"speed-up {sl / f:.1f}x  (ratio {a.ratio}, k {k}, {shape.n_layers} layers of {shape.d_ff} x {shape.d_model}, "
          f"{torch.get_num_threads()} threads)")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2) + '\n')

if __name__ == '__main__': main()
