"""Draw every figure of the site into a folder: ``python scripts/figures.py docs/figures``.

Each ``scripts/fig_<chapter>.py`` exposes ``FIGURES = {"name.svg": draw}``, where ``draw(fig)``
draws on a fresh figure in the house style (it may resize it). ``tests/test_figures.py`` runs
this into a temporary folder and compares every file with the committed one.
"""

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "src")]

import figstyle  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402


def catalogue():
    """Every (file name, draw function) pair, from every ``fig_*.py`` module, sorted by name."""
    found = {}
    for module_path in sorted(HERE.glob("fig_*.py")):
        module = importlib.import_module(module_path.stem)
        for name, draw in module.FIGURES.items():
            if name in found:
                raise ValueError(f"figure {name} is drawn by two modules")
            found[name] = draw
    return dict(sorted(found.items()))


def render(outdir):
    """Draw every figure into ``outdir``; return the list of written paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in catalogue().items():
        with plt.rc_context(figstyle.RC):
            fig = figstyle.new_figure()
            draw(fig)
            figstyle.save(fig, outdir / name)
        written.append(outdir / name)
    return written


if __name__ == "__main__":
    for path in render(sys.argv[1] if len(sys.argv) > 1 else HERE.parent / "docs" / "figures"):
        print(path)
