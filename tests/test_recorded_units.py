"""Units chosen by `paper` (exact numerics) and `selfgen` (selection only, no compensation) on the default model,
recorded before the method registry replaced the mode strings (issue 13): the same (mode, ratio, seed) must keep
exactly the same units. The file stores the units each layer *removes* (the complement: 5-10x smaller).
`python tests/test_recorded_units.py --record` rewrites tests/data/units_before.json from the code as it is.

The units come out of float32 arithmetic (text sampled by the model, 20 episodes of training), so they are recorded and
checked at one thread, whatever the machine has, and checked only on a processor with the same kernels (torch's CPU
capability) as the one that recorded them: elsewhere the rounding, which the code does not control, may differ."""
import json, sys
from contextlib import contextmanager
from pathlib import Path
import pytest, torch

DATA = Path(__file__).resolve().parent/'data'/'units_before.json'
SETTINGS = {'paper': dict(numerics='exact'), 'selfgen': dict(compensate='none', gen_seqs=8, gen_tokens=128)}
CASES = [(0.1, 0), (0.2, 1)]
EPISODES = 20

def case_key(mode, ratio, seed): return f'{mode} ratio={ratio} seed={seed}'

@contextmanager
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try: yield
    finally: torch.set_num_threads(n)

def machine() -> dict: return dict(cpu_capability=torch.backends.cpu.get_cpu_capability(), threads=1, torch=torch.__version__.split('+')[0])

def removed_units(model, tok, mode, ratio, seed) -> list:
    "The units each layer does not keep, as `choose_units` chooses them."
    from prunenet.compress import choose_units
    from prunenet.adapters import ffn_shape
    with one_thread(): c = choose_units(model, ratio, mode, tokenizer=tok, seed=seed, episodes=EPISODES, **SETTINGS[mode])
    d_ff = ffn_shape(model).d_ff
    return [sorted(set(range(d_ff)) - {int(i) for i in k}) for k in c.keep]

@pytest.mark.parametrize('mode', list(SETTINGS))
@pytest.mark.parametrize('ratio,seed', CASES)
def test_kept_units_as_recorded(default_model, mode, ratio, seed):
    model, tok = default_model
    rec = json.loads(DATA.read_text())
    assert (rec['settings'], rec['episodes']) == (SETTINGS, EPISODES)
    if rec['machine'] != machine(): pytest.skip(f"recorded on {rec['machine']}, this machine is {machine()}: other rounding")
    want = rec['removed'][case_key(mode, ratio, seed)]
    got = removed_units(model, tok, mode, ratio, seed)
    assert [len(r) for r in got] == [len(r) for r in want]
    assert got == want, f'{mode} at ratio {ratio}, seed {seed} chose other units in layers ' \
                        f'{[l for l, (a, b) in enumerate(zip(got, want)) if a != b]}'

if __name__ == '__main__' and '--record' in sys.argv:
    import time
    from prunenet.models import load_model
    from prunenet.adapters import ffn_shape
    model, tok = load_model()
    removed = {}
    for mode in SETTINGS:
        for ratio, seed in CASES:
            t0 = time.perf_counter()
            removed[case_key(mode, ratio, seed)] = removed_units(model, tok, mode, ratio, seed)
            print(case_key(mode, ratio, seed), f'{time.perf_counter() - t0:.1f} s', flush=True)
    rec = dict(note='units REMOVED per layer (the kept units are the rest of range(d_ff))', d_ff=ffn_shape(model).d_ff,
               settings=SETTINGS, episodes=EPISODES, machine=machine(), model='prunenet.models.load_model()', removed=removed)
    DATA.write_text(json.dumps(rec, separators=(',', ':')) + '\n')
