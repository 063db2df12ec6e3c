"""Adding a method is one registration: a toy method with its own policy and a setting of its own, registered here and
nowhere else, goes through `compress`, `save_compressed`, a reload with plain transformers, policy reuse, and the
`prunenet` command, where its setting is a flag that nothing else names."""
import contextlib, io, json
from dataclasses import dataclass
import pytest, torch
from transformers import AutoModelForCausalLM

class ToyPolicy(torch.nn.Module):
    "Scores each unit by |W_in row . v| for one direction v of the model's hidden space."
    def __init__(self, d_model:int, seed:int=0):
        super().__init__()
        self.v = torch.nn.Parameter(torch.randn(d_model, generator=torch.Generator().manual_seed(seed)))
    def keep(self, states, k, shift:float=0.0): return [((W.float() @ self.v.detach()) - shift).abs().topk(k).indices.sort().values for W in states]

def toy_method():
    from prunenet.compress import Method, Choice
    from prunenet.core import PrunenetError, Settings, setting
    from prunenet.adapters import ffn_blocks
    import time
    @dataclass(kw_only=True)
    class ToySettings(Settings):
        toy_shift: float = setting(0.0, 'toy: the score is |W_in v - shift|')
        def validate(self):
            if self.toy_shift < 0: raise PrunenetError(f"toy_shift must be >= 0, got {self.toy_shift}")
            return super().validate()
    class Toy(Method):
        name, about, help, settings = 'toy', 'a test method', 'test: units most aligned with one random direction (weights only)', ToySettings
        policy_class, policy_kind = ToyPolicy, 'toy-direction'
        def choose(self, model, k, s, policy=None, **_):
            t0, states = time.perf_counter(), [b.state_matrix().detach() for b in ffn_blocks(model)]
            policy = policy if policy is not None else ToyPolicy(states[0].shape[1], s.seed)
            return Choice.timed(policy.keep(states, k, s.toy_shift), s, 'none (weights only)', t0, policy=policy)
        def check_fits(self, policy, shape):
            if policy.v.numel() != shape.d_model: raise PrunenetError(f"the toy policy is for d_model {policy.v.numel()}")
        def policy_fields(self, policy): return dict(toy_d_model=policy.v.numel())
        def new_policy(self, meta): return ToyPolicy(int(meta['toy_d_model']))
    return Toy()

@pytest.fixture
def toy():
    from prunenet.compress import METHODS, register
    m = register(toy_method())                        # the one registration
    yield m
    METHODS.pop(m.name)

def cli(*argv):
    from prunenet.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()

def test_toy_through_compress_save_reload_and_reuse(toy, tmp_path):
    from prunenet.adapters import tiny_model, ffn_blocks, mask_ffn_units
    from prunenet.compress import compress, save_compressed, load_policy, REPORT_FILE, POLICY_META
    ref, x = tiny_model('llama', d_ff=48), torch.randint(0, 96, (2, 7))
    want = ToyPolicy(16, seed=3).keep([b.state_matrix().detach() for b in ffn_blocks(ref)], 36)
    res = compress(tiny_model('llama', d_ff=48), 0.25, 'toy', seed=3, progress=False)
    assert res.report.keep == [w.tolist() for w in want] and res.report.settings['toy_shift'] == 0.0
    save_compressed(res, None, tmp_path/'toy')
    m = AutoModelForCausalLM.from_pretrained(tmp_path/'toy').eval()
    with torch.no_grad(), mask_ffn_units(ref, want): assert torch.allclose(m(x).logits, ref(x).logits, atol=1e-5)
    meta = json.loads((tmp_path/'toy'/POLICY_META).read_text())
    assert (meta['kind'], meta['mode'], meta['toy_d_model']) == ('toy-direction', 'toy', 16)
    assert json.loads((tmp_path/'toy'/REPORT_FILE).read_text())['settings']['mode'] == 'toy'
    pol, _ = load_policy(tmp_path/'toy')
    assert isinstance(pol, ToyPolicy) and torch.equal(pol.v, res.policy.v)
    again = compress(tiny_model('llama', d_ff=48), 0.5, policy=pol, progress=False)       # the policy says its mode
    assert again.report.settings['mode'] == 'toy'
    assert again.report.keep == [w.tolist() for w in ToyPolicy(16, seed=3).keep([b.state_matrix().detach() for b in ffn_blocks(ref)], 24)]
    from prunenet.core import PrunenetError
    with pytest.raises(PrunenetError, match='the toy policy is for d_model 16'): compress(tiny_model('gpt2', d_model=32), 0.5, policy=pol)

def test_toy_through_the_command(toy, tmp_path):
    from prunenet.cli import main
    with pytest.raises(SystemExit), contextlib.redirect_stdout(buf := io.StringIO()): main(['compress', '--help'])
    assert 'toy: test: units most aligned' in ' '.join(buf.getvalue().split())          # --mode's help is the registry
    rc, out, err = cli('compress', '--mode', 'toy', '--ratio', '0.1', '--seed', '2', '--out', tmp_path/'a', '--quiet')
    assert rc == 0, err
    assert 'mode toy, ratio 0.1, a multiple of 32 units (nearest), seed 2' in out and 'policy and report beside it' in out   # the command's width
    m = AutoModelForCausalLM.from_pretrained(tmp_path/'a')
    assert m.config.intermediate_size == 1376
    rc, out, err = cli('compress', '--policy', tmp_path/'a', '--ratio', '0.2', '--out', tmp_path/'b', '--quiet')
    assert rc == 0, err
    rep = json.loads((tmp_path/'b'/'prunenet_report.json').read_text())
    assert (rep['settings']['mode'], rep['k'], rep['policy']) == ('toy', 1216, str(tmp_path/'a'))
    rc, _, err = cli('compress', '--mode', 'toy', '--numerics', 'exact', '--ratio', '0.1', '--out', tmp_path/'c')
    assert rc == 2 and err.strip() == "prunenet: error: numerics applies to paper mode (the spectral policy), not to mode 'toy'"
    assert not (tmp_path/'c').exists()
    # its own setting: a flag of the command, with its help, that reaches the method and the report
    with pytest.raises(SystemExit), contextlib.redirect_stdout(buf := io.StringIO()): main(['compress', '--help'])
    assert '--toy-shift TOY_SHIFT' in buf.getvalue() and 'toy: the score is |W_in v - shift| (default: toy: 0.0)' in ' '.join(buf.getvalue().split())
    rc, out, err = cli('compress', '--mode', 'toy', '--toy-shift', '2.5', '--ratio', '0.1', '--seed', '2', '--out', tmp_path/'d', '--quiet')
    assert rc == 0, err
    rep = json.loads((tmp_path/'d'/'prunenet_report.json').read_text())
    assert rep['settings']['toy_shift'] == 2.5 and rep['keep'] != json.loads((tmp_path/'a'/'prunenet_report.json').read_text())['keep']
    rc, _, err = cli('compress', '--mode', 'toy', '--toy-shift', '-1', '--ratio', '0.1', '--out', tmp_path/'e')
    assert rc == 2 and 'toy_shift must be >= 0, got -1.0' in err and not (tmp_path/'e').exists()
    rc, _, err = cli('compress', '--mode', 'paper', '--toy-shift', '1', '--ratio', '0.1', '--out', tmp_path/'f')
    assert rc == 2 and "toy_shift applies to toy mode (a test method), not to mode 'paper'" in err

def test_toy_is_gone_after_the_test():
    from prunenet.compress import methods
    from prunenet.cli import _parser
    assert 'toy' not in methods() and {'paper', 'random', 'magnitude', 'calibrated', 'selfgen'} <= set(methods())
    assert '--toy-shift' not in _parser()._subparsers._group_actions[0].choices['compress'].format_help()
