"""Statistics one decoder layer at a time (notebook 08a) against the whole-model pass, on the default model: both in
this process, side by side, so no recorded number from another machine enters (the rounding rule)."""
import copy, torch, pytest

pytestmark = pytest.mark.kernels

@pytest.fixture(scope='module')
def text(default_model):
    from prunenet.signals import self_generate
    model, tok = default_model
    return self_generate(model, tok, n_seqs=6, n_tokens=48, seed=0)

def test_layerwise_equals_whole_model_units_and_refit(default_model, text):
    "Same statistics (bit for bit), hence the same signal, the same units and the same refit; Grams spilled to disk give the same refit."
    from prunenet.activations import activation_stats, TensorFiles
    from prunenet.signals import signal_from_ids, Signal, unit_features, output_gram
    from prunenet.compress import choose_units
    from prunenet.compensate import slice_and_refit_
    from prunenet.adapters import ffn_blocks
    model, tok = default_model
    whole = activation_stats(model, text.split(2), by_layer=False)
    layers = activation_stats(model, text.split(2), by_layer=True)
    for k in ('mean_abs', 'mean_sq', 'mean', 'gram'): assert torch.equal(getattr(whole, k), getattr(layers, k)), k
    sig = lambda st: Signal(unit_features(model, st), output_gram(model, st), st, text, dict(generate=0.0, forward=0.0))
    kw = dict(seed=0, episodes=6, tokenizer=tok)
    c_whole, c_layers = choose_units(model, 0.3, signal=sig(whole), **kw), choose_units(model, 0.3, signal=sig(layers), **kw)
    assert all(torch.equal(a, b) for a, b in zip(c_whole.keep, c_layers.keep))
    spilled = activation_stats(model, text.split(2), max_gram_bytes=1 << 20, spill=True)
    assert isinstance(spilled.gram, TensorFiles) and torch.equal(spilled.mean_sq, whole.mean_sq)
    a, b = copy.deepcopy(model), copy.deepcopy(model)
    slice_and_refit_(a, c_whole.keep, whole.gram, ridge=0.3); slice_and_refit_(b, c_whole.keep, spilled.gram, ridge=0.3)
    for x, y in zip(ffn_blocks(a), ffn_blocks(b)): torch.testing.assert_close(x.out_matrix(), y.out_matrix(), rtol=1e-5, atol=1e-6)

def test_sequential_refit_runs_and_differs(default_model, text):
    "The sequential refit slices like the one-shot one, its first layer is the same, and later layers differ (they see other inputs)."
    from prunenet.activations import activation_stats
    from prunenet.baselines import random_keep
    from prunenet.compensate import slice_and_refit_, sequential_refit_
    from prunenet.adapters import ffn_blocks, ffn_shape
    model, _ = default_model
    keep = random_keep(model, 1075, seed=0)
    one, seq = copy.deepcopy(model), copy.deepcopy(model)
    slice_and_refit_(one, keep, activation_stats(model, text.split(2)).gram, ridge=0.3)
    sequential_refit_(seq, keep, text.split(2), ridge=0.3)
    assert ffn_shape(one) == ffn_shape(seq)
    b1, bs = ffn_blocks(one), ffn_blocks(seq)
    torch.testing.assert_close(b1[0].out_matrix(), bs[0].out_matrix(), rtol=1e-4, atol=1e-6)
    assert not torch.allclose(b1[-1].out_matrix(), bs[-1].out_matrix())
