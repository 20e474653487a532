"""The Normalization page's numbers are the figure script's: seed 0 as printed, and the three-seed table.

The page trains seed 0 itself (a notebook cannot import the script), so this test holds the
two to the same settings and the same printed results, and recomputes the table of three seeds
that is too slow for the page: every number in it is asserted here, and so is every run typed
into the page's SEEDS block (the per-seed runs its paired comparison reads).
"""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import fig_normalization as fig  # noqa: E402

PAGE = (ROOT / "docs" / "normalization.md").read_text(encoding="utf-8")


def test_page_uses_the_scripts_settings():
    assert f"DEPTH, WIDTH = {fig.DEPTH}, {fig.WIDTH}" in PAGE
    assert fig.LR == 1e-3 and f"EPOCHS, BATCH, LR = {fig.EPOCHS}, {fig.BATCH}, 1e-3" in PAGE
    assert list(fig.BLOCKS) == list(fig.KINDS)
    for kind in fig.KINDS:
        assert f'BLOCKS["{kind}"]' in PAGE or f'"{kind}": lambda' in PAGE, kind


def seed0_line(kind):
    _, loss, acc = fig.train(kind, 0)
    return (f"{kind:>11}: training loss {loss:.3f}, validation accuracy {acc[0]:.1%} after epoch 1, "
            f"{acc[-1]:.1%} after 8")


@pytest.mark.parametrize("kind", fig.KINDS)
def test_page_prints_the_scripts_seed_0_run(kind):
    assert seed0_line(kind) in PAGE, f"the page does not show the script's {kind} run: {seed0_line(kind)}"


def test_page_prints_the_scripts_layer_statistics():
    for kind in fig.KINDS:
        stats = fig.layer_stats(kind)
        cols = "  ".join(" ".join(f"{v:7.1e}" for v in s[[0, 9, 18]]) for s in stats)
        assert f"{kind:>11}  {cols}" in PAGE, kind


def test_the_pages_seed_table_is_the_scripts():
    rows = fig.table_rows()
    assert len(fig.SEEDS) >= 3
    shown = [line for line in PAGE.splitlines() if re.match(r"\| (plain|BatchNorm|LayerNorm|residual|LN\+residual) \|", line)]
    assert shown == rows


def seeds_block_rows():
    """The page's SEEDS rows ("kind": ([losses], [images right]),) as the script's runs would write them."""
    rows = []
    for kind in fig.KINDS:
        losses = ", ".join(f"{fig.train(kind, s)[1]:.4f}" for s in fig.SEEDS)
        right = ", ".join(str(round(180 * fig.train(kind, s)[2][-1])) for s in fig.SEEDS)
        rows.append(f'    "{kind}": ([{losses}], [{right}]),')
    return rows


def test_the_pages_per_seed_runs_are_the_scripts():
    """The paired comparison on the page reads the runs typed into its SEEDS block: they are the script's."""
    shown = [line for line in PAGE.splitlines() if re.match(r'    "(plain|BatchNorm|LayerNorm|residual|LN\+residual)": \(\[', line)]
    assert fig.SEEDS == (0, 1, 2) and PAGE.count("SEEDS = {") == 1  # the page's comment: seeds 0, 1, 2
    assert shown == seeds_block_rows()


def test_planted_wrong_rows_are_caught():
    """Planted faults: another network's run, and a table row with one digit changed, are not on the page."""
    assert seed0_line("plain").replace("plain", "BatchNorm") not in PAGE
    row = fig.table_rows()[1]
    changed = re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10), row, count=1)
    assert changed != row and changed not in PAGE.splitlines()
    seeds_row = seeds_block_rows()[2]
    changed = re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10), seeds_row, count=1)
    assert changed != seeds_row and changed not in PAGE.splitlines()
