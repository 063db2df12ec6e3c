"""The bookkeeping of the comparison's bench scripts, on made-up results (no model, no SliceGPT checkout): how
`bench/slicegpt.py --merge` joins results files, where `bench/peers.py` takes SliceGPT's speeds from, and how it ranks."""
import importlib.util, json, math
from pathlib import Path
import numpy as np, pandas as pd, pytest

BENCH = Path(__file__).resolve().parents[1]/'bench'

def load(name):
    spec = importlib.util.spec_from_file_location(f'bench_{name}', BENCH/f'{name}.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m

@pytest.fixture(scope='module')
def slicegpt(): return load('slicegpt')

@pytest.fixture(scope='module')
def peers(): return load('peers')

META = dict(slicegpt_commit='abc', params_dense=100, windows=20, cli_defaults=dict(seed=42), prunenet_ffn_params={'0.2': 80})

def results(path, runs, **meta):
    path.write_text(json.dumps(dict(meta=META | meta, runs=[dict(r, key=json.dumps(r, sort_keys=True)) for r in runs])))
    return path

def test_merge_adds_jobs_and_takes_redone_ones(tmp_path, slicegpt):
    out = results(tmp_path/'out.json', [dict(kind='dense'), dict(kind='slice', dim=8)])
    a = json.loads(out.read_text())
    a['runs'][1]['ppl'] = 2.0                                 # the same job, redone there
    a['runs'].append(dict(kind='slice', dim=16, key='{"dim": 16}', ppl=3.0))
    a['meta']['prunenet_ffn_params'] = {'0.25': 75}
    (tmp_path/'a.json').write_text(json.dumps(a))
    slicegpt.merge(out, [tmp_path/'a.json'])
    m = json.loads(out.read_text())
    assert [r.get('ppl') for r in m['runs']] == [None, 2.0, 3.0]
    assert m['meta']['prunenet_ffn_params'] == {'0.2': 80, '0.25': 75}
    before = out.read_bytes()
    slicegpt.merge(out, [tmp_path/'a.json'])                 # nothing new: the same file
    assert out.read_bytes() == before

@pytest.mark.parametrize('key,value', [('slicegpt_commit', 'def'), ('params_dense', 99), ('windows', 10), ('cli_defaults', dict(seed=0))])
def test_merge_refuses_other_runs(tmp_path, slicegpt, key, value):
    out = results(tmp_path/'out.json', [dict(kind='dense')])
    other = results(tmp_path/'b.json', [dict(kind='slice', dim=8)], **{key: value})
    before = out.read_bytes()
    with pytest.raises(SystemExit, match=f'{key} is'): slicegpt.merge(out, [other])
    assert out.read_bytes() == before

def test_speed_job_replaces_the_last(tmp_path, slicegpt):
    "`--speeds` times every sliced width once; an earlier speed job goes, and a merged file's speed job replaces ours."
    done = {'d': dict(kind='dense'), 's1': dict(kind='slice', dim=400), 's2': dict(kind='slice', dim=320), 's3': dict(kind='slice', dim=400),
            'old': dict(kind='speed', dims=[400])}
    job = slicegpt.speed_job(done, 1)
    assert job == dict(kind='speed', dims=[320, 400], threads=1) and 'old' not in done
    with pytest.raises(SystemExit, match='no sliced model'): slicegpt.speed_job({'d': dict(kind='dense')}, 1)
    out = results(tmp_path/'out.json', [dict(kind='dense'), dict(kind='speed', dims=[400])])
    other = results(tmp_path/'b.json', [dict(kind='dense'), dict(kind='speed', dims=[320, 400])])
    slicegpt.merge(out, [other])
    assert [r.get('dims') for r in json.loads(out.read_text())['runs']] == [None, [320, 400]]

def timing(decode, machine='cpu A', prefill_s=1.0):
    return dict(timing_machine=machine, prefill_tokens=256, prefill_cpu_s=prefill_s, decode_tok_per_cpu_s=decode)

def sg_table(peers, sg):
    runs = pd.DataFrame([dict(method='dense', ratio=0.0, mode='dense', ppl=30.0, average=float('nan'))])
    archs = dict(dense=dict(params=100, prefill_tok_s=1.0, decode_tok_s=1.0))
    t, _ = peers.table(runs, archs, sg, bigbench=False)
    return t[t.source.str.startswith('slicegpt')].set_index('ratio')

def test_slicegpt_speeds_from_one_machine(peers):
    "SliceGPT's speed relative to dense: from the `speed` job (every width in one process) where there is one, else only against a dense run timed on the same machine."
    runs = [dict(kind='dense', **timing(10.0, 'cpu A')),
            dict(kind='slice', calibration='slicegpt', sparsity=0.3, dim=400, params=90, ppl=200.0, **timing(5.0, 'cpu B')),
            dict(kind='slice', calibration='prunenet', sparsity=0.2, dim=456, params=95, ppl=190.0, **timing(12.0, 'cpu A'))]
    t = sg_table(peers, dict(runs=runs))
    assert math.isnan(t.decode_vs_dense[0.3]) and t.decode_vs_dense[0.2] == pytest.approx(1.2)
    assert t.decode_tok_s[0.3] == 5.0
    speed = dict(kind='speed', timing_machine='cpu C', dense=timing(8.0, 'cpu C'), widths={'400': timing(10.0, 'cpu C', 0.5)})
    t = sg_table(peers, dict(runs=runs + [speed]))
    assert t.decode_vs_dense[0.3] == pytest.approx(1.25) and (t.decode_tok_s[0.3], t.prefill_tok_s[0.3], t.timed_on[0.3]) == (10.0, 512.0, 'cpu C')
    assert t.decode_vs_dense[0.2] == pytest.approx(1.2) and t.timed_on[0.2] == 'cpu A'        # not in it: its own timing, beside its dense
    runs[2]['timing_machine'] = 'cpu B'                                                         # ... and none where that dense ran elsewhere
    assert math.isnan(sg_table(peers, dict(runs=runs + [speed])).decode_vs_dense[0.2])
    with pytest.raises(AssertionError, match='more than one speed job'): sg_table(peers, dict(runs=runs + [speed, speed]))

def test_default_beats_and_ranks(peers):
    "The share of resampled windows in which the default beats each row, and its rank among the rows of a comparison."
    d = 'selfgen (default: + refit)'
    t = pd.DataFrame(dict(method=[d, 'FLAP (uses data)', 'random'], ratio=[0.3] * 3, ppl=[10.0, 9.0, 50.0], bigbench=[np.nan] * 3,
                          removed_pct=[20.0] * 3, source=['prunenet runs'] * 3, match_ffn=[np.nan] * 3, decode_vs_dense=[1.1, 1.1, 1.2]))
    boot = {0: np.array([10.0] * 15 + [8.0] * 5), 1: np.full(20, 9.0), 2: np.full(20, 50.0)}     # 20 resamples: the default ahead of FLAP in 5
    beats = peers.default_beats(t, boot)
    assert math.isnan(beats[0]) and beats[1:] == [0.25, 1.0]
    rk = peers.ranks(t, boot).iloc[0]
    assert (rk.comparison, rk.rows, rk.ppl_rank, rk.best_other, rk.p_beats_best_other) == ('nominal ratio 0.3', 3, 2, 'FLAP (uses data)', 0.25)
    assert rk.ppl_rank_90 == '1-2'      # rank 1 in a quarter of the resamples, 2 in the rest
    assert (rk.decode_rows, rk.decode_rank) == (3, 2)        # a tie does not count against the default
