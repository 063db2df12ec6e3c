"""The registry's methods choose what their algorithms choose, on the default model, checked side by side in one process.

Each test runs a method through `choose_units` (the registry, its settings and its plumbing) and the same algorithm
written out from its parts, now, on the same model and inputs, and asks for the same units. Nothing is compared
with a value recorded on another machine or in another process: the units come out of floating-point arithmetic
(text the model samples, training), whose rounding depends on the processor's kernels (CONTRIBUTING.md, the rounding
rule). The one recorded value, random units, is exact by construction: integers drawn from a seeded integer generator.
"""
import pytest, torch
from prunenet.adapters import ffn_blocks, ffn_shape, n_keep

pytestmark = pytest.mark.kernels

def units(keep): return [torch.as_tensor(u).sort().values.tolist() for u in keep]

def test_paper_exact_is_the_literal_loop(default_model):
    "Paper mode (exact numerics, per-layer draws): the loop of notebook 07 written out, then the seeded final draw."
    from prunenet.compress import choose_units
    from prunenet.policy import PrunePolicy, sample_units, log_keep_prob
    from prunenet.spectral import gram, spectrum_from_gram
    from prunenet.train import layer_reward
    model, _ = default_model
    ratio, seed, episodes = 0.2, 1, 3
    c = choose_units(model, ratio, 'paper', seed=seed, episodes=episodes, numerics='exact', sampling='layer', workers=1)

    Ws = torch.stack([b.state_matrix().detach().float().contiguous() for b in ffn_blocks(model)])
    L, d_ff, d = Ws.shape
    k = n_keep(ratio, d_ff)
    G = gram(Ws); s0 = spectrum_from_gram(G)
    pol, g = PrunePolicy(d, d_ff, seed=seed), torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(pol.parameters(), lr=1e-3, foreach=True)
    best, best_state = -float('inf'), None
    for ep in range(episodes):
        total = 0.0
        for l in range(L):
            with torch.no_grad(): keep = sample_units(pol.keep_probs(Ws[l], g), k, g)
            R = layer_reward(G[l], s0[l], Ws[l], keep)
            total += R * 0.99 ** l
            loss = -R * 0.99 ** l * log_keep_prob(pol.noisy_logits(Ws[l], g), keep)
            opt.zero_grad(); loss.backward(); opt.step()
        if total > best: best, best_state = total, {n: v.clone() for n, v in pol.state_dict().items()}
    pol.load_state_dict(best_state)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad(): want = [sample_units(pol.keep_probs(W, g), k, g) for W in Ws]
    assert units(c.keep) == units(want)
    assert c.history.best_episode is not None and len(c.history.episode_rewards) == episodes

def test_selfgen_is_its_parts(default_model):
    "selfgen, selection only: the model's text, its statistics and features, the unit policy's training and top-k."
    from prunenet.compress import choose_units
    from prunenet.signals import self_generate, unit_features, output_gram, train_unit_policy, select_by_policy
    from prunenet.activations import activation_stats
    model, tok = default_model
    ratio, seed, n, T, episodes = 0.2, 1, 8, 64, 10
    c = choose_units(model, ratio, 'selfgen', tokenizer=tok, seed=seed, gen_seqs=n, gen_tokens=T, episodes=episodes, compensate='none')

    ids = self_generate(model, tok, n, T, seed)
    st = activation_stats(model, ids.split(8))
    X, M = unit_features(model, st), output_gram(model, st)
    k = n_keep(ratio, ffn_shape(model).d_ff)
    pol, hist = train_unit_policy(X, M, k, episodes=episodes, samples=8, lr=0.05, seed=seed, progress=False)
    assert units(c.keep) == units(select_by_policy(pol, X, k, 'topk'))
    assert torch.equal(c.policy.weight, pol.weight) and c.history.topk_error == hist.topk_error

def test_calibrated_is_its_parts(default_model):
    from prunenet.compress import choose_units
    from prunenet.activations import activation_stats, calibration_ids
    from prunenet.baselines import importance_keep
    model, tok = default_model
    c = choose_units(model, 0.25, 'calibrated', tokenizer=tok, calib_windows=4)
    st = activation_stats(model, calibration_ids(tok, windows=4).split(8), gram=False)
    assert units(c.keep) == units(importance_keep(st, model, n_keep(0.25, ffn_shape(model).d_ff)))

def test_random_units_as_recorded(default_model):
    "Exact by construction: `randperm` with a seeded generator is integer arithmetic, the same on every processor."
    from prunenet.compress import choose_units
    model, _ = default_model
    keep = choose_units(model, 0.2, 'random', seed=0).keep
    removed = [sorted(set(range(1536)) - set(u.tolist())) for u in keep]
    assert [len(r) for r in removed] == [308] * 30
    assert removed[0][:12] == [3, 10, 12, 20, 24, 25, 36, 37, 38, 42, 45, 48]       # recorded on the code of 7d7b2d5
    assert removed[29][-12:] == [1477, 1490, 1491, 1495, 1509, 1515, 1520, 1525, 1527, 1528, 1532, 1535]
