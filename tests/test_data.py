"The offline corpus: size, cleanliness, disjoint deterministic splits."
import re
from prunenet.data import wiki_pages, wiki_text, SPLITS

def test_corpus_size():
    words = sum(len(wiki_text(s).split()) for s in SPLITS)
    assert words >= 300_000
    assert len(wiki_text('all').split()) == words

def test_splits_disjoint_and_deterministic():
    paras = {s: [p for p in wiki_text(s).split('\n') if p] for s in SPLITS}
    sets = {s: set(p) for s, p in paras.items()}
    assert not sets['calibration'] & sets['validation']
    assert not sets['calibration'] & sets['test']
    assert not sets['validation'] & sets['test']
    titles = {}
    for t, s, _ in wiki_pages(): titles.setdefault(t, set()).add(s)
    assert all(len(v) == 1 for v in titles.values())
    for s in SPLITS: assert len(paras[s]) > 100
    wiki_pages.cache_clear()
    assert wiki_text('test') == '\n\n'.join(x for _, s, x in wiki_pages() if s == 'test')

def test_markup_removed():
    text = wiki_text('all')
    # a handful of malformed templates survive in 400k words; markup must be rare, not absent
    for mark in ('{{', '[[', '<ref', '}}', ']]'): assert text.count(mark) < 10, mark
    assert text.count('|') < 100
