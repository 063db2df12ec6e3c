"""Issue 25: the same pruned model (selfgen, 8 x 128 text, no refit, ratio 0.3, seed 0) had perplexity 95.05 in
recover.json and 95.31 in zeroshot.json. Both paths (`compress`, as bench/recover.py prunes; `choose_units` on a shared
signal, as `zero_shot_runs` does), side by side in one process at one thread, then the first again at two threads.
Writes bench/results/two_paths.json (about 3 minutes).

    python bench/two_paths.py
"""
import copy, json, torch
from pathlib import Path
torch.set_num_threads(1)
from prunenet.models import load_model
from prunenet.compress import compress, choose_units, apply_choice_
from prunenet.ablations import get_signal
from prunenet.evaluate import evaluate
model, tok = load_model()
SEL = dict(compensate='none', gen_seqs=8)
ev = lambda m: evaluate(m, tok, tasks=['ppl'], windows=20, progress=False).value('ppl', 'perplexity')
a = compress(copy.deepcopy(model), 0.3, 'selfgen', tokenizer=tok, progress=False, seed=0, **SEL)          # recover.py's path
sig = get_signal(model, tok, 0, {}, 8, 128)
c = choose_units(model, 0.3, 'selfgen', tokenizer=tok, signal=sig, seed=0, **SEL)                          # zero_shot_runs's path
b = copy.deepcopy(model); apply_choice_(b, c, tok)
same = [torch.equal(torch.as_tensor(x).sort().values, torch.as_tensor(y).sort().values) for x, y in zip(a.report.keep, c.keep)]
out = dict(threads=1, same_units_layers=sum(same), layers=len(same), ppl_recover_path=ev(a.model), ppl_grid_path=ev(b))
# the same path at two threads: does the thread count alone move the text and the units?
torch.set_num_threads(2)
a2 = compress(copy.deepcopy(model), 0.3, 'selfgen', tokenizer=tok, progress=False, seed=0, **SEL)
out['two_threads_same_units_layers'] = sum(torch.equal(torch.as_tensor(x).sort().values, torch.as_tensor(y).sort().values) for x, y in zip(a.report.keep, a2.report.keep))
out['ppl_recover_path_two_threads'] = ev(a2.model)
print(json.dumps(out, indent=1))
(Path(__file__).resolve().parent/'results'/'two_paths.json').write_text(json.dumps(out, indent=1) + '\n')
