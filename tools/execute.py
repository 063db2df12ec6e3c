"""Execute notebooks in place and keep their outputs (the figures and numbers the docs show).

Usage: python tools/execute.py nbs/03_adapters.ipynb [...] [--flags "slow"] [--cells ID,ID]

Cells with `#| eval: false` (the Colab install cell) are skipped, as nbdev_test skips them. Cells flagged with a
tst_flag (settings.ini: notest, slow, gpu, bigbench) are skipped unless named in --flags, or their cell id is
listed in --cells (to run one new slow cell without re-running the others); a skipped cell keeps the outputs it
had, so results of a slow or GPU run are not erased by a quick run. Stops at the first error
and leaves that notebook unchanged. Runs nbdev_clean afterwards.

Every executed cell gets the SHA-256 of its source in its metadata (`prunenet.source_sha256`, kept by nbdev_clean:
settings.ini's allowed_cell_metadata_keys), so `tests/test_docs.py` can tell when a cell's source changed after its
outputs were recorded.
"""
import os, re, sys, subprocess, time, hashlib
# The docs show outputs without download and loading bars. Set here, before anything imports huggingface_hub (transformers
# reads the same switch), instead of a hidden cell in every notebook; a reader running a notebook sees the bars.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

SKIP = set(next(l for l in (Path(__file__).parent.parent/'settings.ini').read_text().splitlines()
                if l.startswith('tst_flags')).split('=')[1].split())

def flags_of(src):
    return {f for l in src.split('\n') for f in re.findall(r'^#\|\s*(\w+)\s*$', l)}

def source_sha256(src:str) -> str: return hashlib.sha256(src.encode()).hexdigest()

def execute(path, run_flags=(), cells=()):
    path = Path(path).resolve()
    nb = read_nb(path)
    skip = SKIP - set(run_flags)
    shell = CaptureShell(path)
    cwd = os.getcwd(); os.chdir(path.parent)
    sys.path.insert(0, str(path.parent.parent))
    os.environ['IN_TEST'] = '1'
    t0 = time.time()
    try:
        for cell in nb.cells:
            if cell.cell_type != 'code' or re.search(r'^#\|\s*eval:\s*false', cell.source, re.M | re.I): continue
            if flags_of(cell.source) & skip and cell.get('id') not in cells: continue
            shell.cell(cell)
            if shell.exc: raise SystemExit(f'{path.name}: error\n{shell.prettytb(fname=path)}')
            cell.metadata['prunenet'] = dict(source_sha256=source_sha256(cell.source))
    finally: os.chdir(cwd)
    write_nb(nb, path)
    print(f'{path.name}: executed in {time.time()-t0:.0f} s')

if __name__ == '__main__':
    args, flags, cells = sys.argv[1:], (), ()
    if '--flags' in args:
        i = args.index('--flags'); flags = args[i+1].split(); args = args[:i] + args[i+2:]
    if '--cells' in args:
        i = args.index('--cells'); cells = args[i+1].split(','); args = args[:i] + args[i+2:]
    bin_ = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k != 'IN_TEST'}          # nbdev_export is a no-op under IN_TEST
    subprocess.run([str(bin_/'nbdev_export')], check=True, env=env)   # notebooks import the package: export first
    for a in args: execute(a, flags, cells)
    subprocess.run([str(bin_/'nbdev_clean')], check=True, env=env)
    subprocess.run([str(bin_/'nbdev_export')], check=True, env=env)   # after cleaning: cell ids are part of the export
