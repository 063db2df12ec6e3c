"""Imports point one way: every module of the package imports only modules exported from earlier notebooks (eagerly,
inside a function, or by `import_module`), so the notebooks read, and test, in order; the import graph has no cycle.
A later notebook plugs into an earlier one by registering (a method, a compensation step), never by being imported."""
import ast, re
from conftest import ROOT

def notebook_of() -> dict:
    "module name -> the notebook it is exported from (its file name without .ipynb)."
    out = {}
    for p in sorted((ROOT/'prunenet').glob('*.py')):
        if p.name == '_modidx.py': continue
        m = re.search(r'File to edit: \.\./nbs/(\S+)\.ipynb', p.read_text())
        assert m, f'prunenet/{p.name} is not exported from a notebook'
        out[p.stem] = m.group(1)
    return out

def imports_of(path) -> set:
    "The prunenet modules a file imports, in any form ('__init__' for the package itself)."
    found = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.ImportFrom):
            mod = n.module or ''
            if n.level == 1: found |= {mod} if mod else {a.name for a in n.names}
            elif mod == 'prunenet': found |= {a.name for a in n.names}
            elif mod.startswith('prunenet.'): found.add(mod.split('.')[1])
        elif isinstance(n, ast.Import):
            for a in n.names:
                if a.name == 'prunenet': found.add('__init__')
                elif a.name.startswith('prunenet.'): found.add(a.name.split('.')[1])
        elif isinstance(n, ast.Call) and getattr(n.func, 'attr', getattr(n.func, 'id', None)) in ('import_module', '__import__'):
            arg = n.args[0] if n.args else None
            assert isinstance(arg, ast.Constant), f'{path.name}: import_module with a computed name cannot be checked'
            if str(arg.value).startswith('prunenet'): found.add(str(arg.value).split('.')[1] if '.' in arg.value else '__init__')
    return found

def graph() -> dict:
    nbs = notebook_of()
    return {m: imports_of(ROOT/'prunenet'/f'{m}.py') - {m} for m in nbs}

def test_every_import_points_to_an_earlier_notebook():
    nbs, g = notebook_of(), graph()
    bad = [f'{m} ({nbs[m]}) imports {x} ({nbs.get(x, "?")})' for m, xs in g.items() for x in sorted(xs)
           if x not in nbs or nbs[x] >= nbs[m]]
    assert not bad, 'imports that point forward or outside the notebooks:\n' + '\n'.join(bad)

def test_import_graph_has_no_cycle():
    g, state = graph(), {}
    def visit(m, path):
        if state.get(m) == 'done': return
        assert state.get(m) != 'open', 'import cycle: ' + ' -> '.join(path + [m])
        state[m] = 'open'
        for x in g.get(m, ()): visit(x, path + [m])
        state[m] = 'done'
    for m in g: visit(m, [])

def test_the_check_sees_each_form_of_import(tmp_path):
    p = tmp_path/'m.py'
    p.write_text('from .core import x\nfrom . import adapters\nimport prunenet.models\nfrom prunenet.data import y\nimport prunenet\n'
                 'def f():\n    import importlib; importlib.import_module("prunenet.signals")\n')
    assert imports_of(p) == {'core', 'adapters', 'models', 'data', '__init__', 'signals'}
