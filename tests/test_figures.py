"""Figures come from tested code: regenerate them all and compare with what is committed."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "figures"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    from tests.blasruns import figure_environment

    out = tmp_path_factory.mktemp("figures")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "figures.py"), str(out)], check=True,
                   env=figure_environment(None))
    return out


def test_every_committed_figure_has_a_generator(regenerated):
    made = sorted(p.name for p in regenerated.glob("*.svg"))
    committed = sorted(p.name for p in COMMITTED.glob("*.svg"))
    assert committed == made, "run `make figures` and commit docs/figures"


def test_committed_figures_are_byte_identical(regenerated):
    stale = [p.name for p in regenerated.glob("*.svg") if (COMMITTED / p.name).read_bytes() != p.read_bytes()]
    assert stale == [], f"stale figures (run `make figures`): {stale}"
    dated = [p.name for p in regenerated.glob("*.svg") if b"<dc:date>" in p.read_bytes()]
    assert dated == [], f"figures carrying their drawing date: {dated}"


# Determinism: every figure is drawn in three processes (here, and by tests/test_blas_portability.py
# under the two other BLAS settings), each compared byte for byte with the committed file, and the
# one-thread draw runs under another hash seed (tests/blasruns.FIGURE_HASH_SEEDS). A figure that
# varies from run to run, or with the hash seed, fails one of those comparisons; the planted
# fault below shows the hash seeds differ where it matters.
PLANTED_HASH_ORDER = 'print(",".join({"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}))'


def test_a_figure_following_the_hash_order_would_differ_between_the_draws():
    from tests.blasruns import ONE_THREAD, SETTINGS, figure_environment

    orders = {setting: subprocess.run([sys.executable, "-c", PLANTED_HASH_ORDER], env=figure_environment(setting),
                                      capture_output=True, text=True, check=True).stdout
              for setting in (None, *SETTINGS)}
    assert orders[ONE_THREAD] != orders[None], "the one-thread draw must run under another hash seed"
    assert len(set(orders.values())) == 2


def test_every_figure_is_used_on_a_page():
    """A phone rendering ``name.narrow.svg`` is used where ``name.svg`` is (sitekit.figures)."""
    pages = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.md"))
    unused = [p.name for p in COMMITTED.glob("*.svg") if f"figures/{p.name.replace('.narrow.svg', '.svg')}" not in pages]
    assert unused == []


def test_every_narrow_rendering_fits_a_phone_and_has_its_wide_figure():
    for narrow in COMMITTED.glob("*.narrow.svg"):
        assert (COMMITTED / narrow.name.replace(".narrow.svg", ".svg")).is_file(), narrow.name
        width = float(re.search(r'<svg[^>]*\swidth="([\d.]+)pt"', narrow.read_text(encoding="utf-8"))[1])
        # a 375 px phone shows it 327 px wide: 9.5 pt text (figstyle.MIN_PT) stays >= 11 px up to 282 pt
        assert width <= 282, f"{narrow.name} is {width} pt wide: its 9.5 pt text would render under 11 px"
