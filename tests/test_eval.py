"`prunenet eval` and the evaluation API, offline on the default model."
import json, math, os
import pytest
from conftest import run_cli

def test_eval_cli_writes_json(tmp_path):
    out = tmp_path/'eval.json'
    env = dict(os.environ, HF_DATASETS_OFFLINE='1', HF_HUB_OFFLINE='1')
    r = run_cli('eval', '--tasks', 'ppl,cloze,mmlu_dev', '--limit', '16', '--windows', '4', '--out', out, '--quiet', env=env)
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    vals = {(x['task'], x['metric']): x for x in d['results']}
    ppl = vals[('ppl', 'perplexity')]['value']
    assert 10 < ppl < 60, ppl                        # a real pretrained model on real English text
    assert vals[('ppl', 'perplexity')]['n'] == 4 * 255
    assert 0 <= vals[('cloze', 'acc')]['value'] <= 1 and vals[('cloze', 'acc')]['n'] == 16
    assert 0 <= vals[('mmlu_dev', 'acc')]['value'] <= 1 and vals[('mmlu_dev', 'acc')]['n'] == 16
    assert d['settings']['ppl_windows'] == 4 and d['settings']['ppl_seq_len'] == 256 and d['settings']['limit'] == 16

def test_eval_refuses_hub_tasks_offline(tmp_path):
    env = dict(os.environ, HF_DATASETS_OFFLINE='1', HF_HUB_OFFLINE='1')
    r = run_cli('eval', '--tasks', 'paper', '--out', tmp_path/'e.json', env=env)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and 'need the Hugging Face hub' in lines[0] and 'piqa' in lines[0]
    assert not (tmp_path/'e.json').exists()

def test_pruned_model_is_worse_but_finite(default_model):
    from prunenet.models import load_model
    from prunenet.evaluate import perplexity
    from prunenet.compress import compress
    from prunenet.data import wiki_text
    model, tok = load_model()
    text = wiki_text('test')
    dense = perplexity(model, tok, text, max_windows=4)['perplexity']
    compress(model, 0.3, mode='random', seed=0, progress=False)
    pruned = perplexity(model, tok, text, max_windows=4)['perplexity']
    assert math.isfinite(pruned) and pruned > dense

def test_plot_retention_works_from_the_package():
    import matplotlib; matplotlib.use('Agg')
    import pandas as pd
    from prunenet.evaluate import plot_retention
    df = pd.DataFrame(dict(method=['dense', 'random', 'random', 'paper'], ratio=[0, .1, .2, .1],
                           ppl=[27., 60., 200., 900.], cloze_acc=[.4, .3, .1, .05]))
    fig = plot_retention(df)
    assert len(fig.axes) == 2 and fig.axes[0].get_yscale() == 'log'

def test_plot_ppl_works_from_the_package():
    import matplotlib; matplotlib.use('Agg')
    import pandas as pd
    from prunenet.ablations import plot_ppl
    df = pd.DataFrame(dict(label=['a', 'a', 'b'], ratio=[0.1, 0.1, 0.1], ppl=[10.0, 12.0, 30.0]))
    ax = plot_ppl(df, dense=8.0, title='t')
    assert ax.get_yscale() == 'log' and ax.get_title() == 't'

def test_evaluate_a_model_dispatched_by_accelerate(default_model, tmp_path, monkeypatch):
    """Big models are evaluated through accelerate's device_map (notebook 10): a model whose layers accelerate placed
    partly on disk, moved in by its hooks, gives the figures of the plain model."""
    import copy
    from transformers import AutoModelForCausalLM
    from prunenet.models import make_serializable
    from prunenet.evaluate import evaluate
    monkeypatch.setenv('HF_DATASETS_OFFLINE', '1'); monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    model, tok = default_model
    make_serializable(copy.deepcopy(model)).save_pretrained(tmp_path/'m')
    d = AutoModelForCausalLM.from_pretrained(tmp_path/'m', device_map='auto', max_memory={'cpu': '300MB'},
                                             offload_folder=str(tmp_path/'offload')).eval()
    assert {'cpu', 'disk'} <= set(d.hf_device_map.values())
    a = evaluate(d, tok, tasks=['ppl', 'cloze'], limit=10, windows=2, progress=False)
    b = evaluate(model, tok, tasks=['ppl', 'cloze'], limit=10, windows=2, progress=False)
    assert a.value('ppl', 'perplexity') == pytest.approx(b.value('ppl', 'perplexity'), rel=1e-4)
    assert a.value('cloze', 'acc') == b.value('cloze', 'acc')
    assert a.value('cloze', 'perplexity') == pytest.approx(b.value('cloze', 'perplexity'), rel=1e-4)

def test_eval_bigbench_suite_offline_with_retention(tmp_path, bigbench_stand_in):
    "The suite runs offline from an archive in BIG-bench's layout (a stand-in here); its average and retention vs a reference are written."
    from prunenet.evaluate import BIGBENCH_SUITE, Evaluation
    import pandas as pd
    ref = tmp_path/'dense.json'
    Evaluation(pd.DataFrame([dict(task='bigbench', metric='average', value=0.5, stderr=None, n=4)]), dict(label='dense')).save(ref)
    out = tmp_path/'e.json'
    r = run_cli('eval', '--tasks', 'bigbench', '--limit', '3', '--reference', ref, '--out', out, '--quiet', env=bigbench_stand_in)
    assert r.returncode == 0, r.stderr
    d = json.loads(out.read_text())
    vals = {(x['task'], x['metric']): x for x in d['results']}
    accs = [vals[(f'bigbench:{t}', m)]['value'] for t, m in BIGBENCH_SUITE.items()]
    assert all(vals[(f'bigbench:{t}', m)]['n'] == 3 for t, m in BIGBENCH_SUITE.items())
    avg = vals[('bigbench', 'average')]
    assert math.isclose(avg['value'], sum(accs) / len(accs))
    assert math.isclose(avg['retention'], avg['value'] / 0.5)
    assert vals[(f'bigbench:{next(iter(BIGBENCH_SUITE))}', 'acc')]['retention'] is None     # not in the reference
    assert 'retention' in r.stdout and 'bigbench' in r.stdout
