"""Render nbs/index.ipynb to README.md (what `nbdev_readme` does where Quarto is installed).

Usage: python tools/readme.py           # write README.md
       python tools/readme.py --check   # exit 1 if README.md is out of step with index.ipynb
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _text_outputs(cell):
    out = []
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream' and o.get('name') == 'stdout': out.append(''.join(o['text']))
        elif o.get('output_type') in ('execute_result', 'display_data') and 'text/plain' in o.get('data', {}):
            if 'image/png' not in o['data']: out.append(''.join(o['data']['text/plain']) + '\n')
    return ''.join(out).rstrip('\n')

def render(nb_path=ROOT/'nbs'/'index.ipynb') -> str:
    nb = json.loads(Path(nb_path).read_text())
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source']).strip('\n')
        if c['cell_type'] == 'markdown':
            # the notebook's title block: "# title" then "> summary"
            parts.append(src)
        elif c['cell_type'] == 'code':
            lines = [l for l in src.split('\n') if not re.match(r'^#\|', l)]
            if not lines or any(re.match(r'^#\|\s*hide', l) for l in src.split('\n')): continue
            parts.append('```python\n' + '\n'.join(lines).strip('\n') + '\n```')
            out = _text_outputs(c)
            if out: parts.append('```\n' + out + '\n```')
    note = '<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->'
    return note + '\n\n' + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(), ROOT/'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != text:
            sys.exit('README.md is out of step with nbs/index.ipynb: run `python tools/readme.py`')
    else: readme.write_text(text)
