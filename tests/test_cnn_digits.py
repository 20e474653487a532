"""The Convolution chapter's five-seed tables are the output of benchmarks/cnn_digits.py.

Training 60 networks is too slow for the page and for the suite, so the script writes its
results to benchmarks/cnn_digits.json, and this test holds both ends: the page's literal
tables must be the file's rows (to the digits shown), the file's choice must be the lowest mean
validation loss, and a fresh run of seed 0 of the chosen CNN must give the file's seed-0 row
(validation loss to 1e-9, accuracies exactly: they are counts of 180 and 179 images).
"""

import ast
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import cnn_digits  # noqa: E402

PAGE = (ROOT / "docs" / "convolution.md").read_text(encoding="utf-8")
RESULTS = json.loads(cnn_digits.RESULTS.read_text())


def page_literal(name):
    """The dict literal the page assigns to `name` (`TRIED = {...}`)."""
    match = re.search(rf"^{name} = (\{{.*?\}})\n(?=\S)", PAGE, re.S | re.M)
    assert match, f"the page has no literal {name} = {{...}}"
    return ast.literal_eval(match[1])


def test_the_pages_validation_table_is_the_scripts():
    tried = page_literal("TRIED")
    assert list(tried) == list(cnn_digits.CANDIDATES) == list(RESULTS["candidates"])
    for name, losses in tried.items():
        np.testing.assert_allclose(losses, [r["val_loss"] for r in RESULTS["candidates"][name]], rtol=0, atol=5e-5,
                                   err_msg=name)


def test_the_pages_final_table_is_the_scripts():
    final = page_literal("FINAL")
    for page_name, name in zip(["MLP", "CNN"], RESULTS["final"]):
        rows = RESULTS["final"][name]
        assert final[page_name]["params"] == rows[0]["params"]
        for key in ("val", "test"):
            np.testing.assert_allclose(final[page_name][key], [r[key] for r in rows], rtol=0, atol=5e-5,
                                       err_msg=f"{page_name} {key}")


def test_the_choice_is_the_lowest_mean_validation_loss_and_the_test_pile_was_left_alone():
    means = {name: np.mean([r["val_loss"] for r in rows]) for name, rows in RESULTS["candidates"].items()}
    assert RESULTS["chosen"] == min(means, key=means.get)
    chosen = RESULTS["chosen"]
    assert all("test" not in r for name, rows in RESULTS["candidates"].items() if name != chosen for r in rows)
    assert list(RESULTS["final"]) == ["MLP (Training chapter)", RESULTS["chosen"]]


def test_a_planted_wrong_row_on_the_page_would_be_caught():
    final = page_literal("FINAL")
    final["CNN"]["test"][0] += 1 / 179  # one more digit right than the script measured
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(final["CNN"]["test"], [r["test"] for r in RESULTS["final"][RESULTS["chosen"]]],
                                   rtol=0, atol=5e-5)


def test_seed_0_of_the_chosen_cnn_trains_to_the_files_row():
    row = cnn_digits.run(RESULTS["chosen"], 0, test=True)
    stored = RESULTS["final"][RESULTS["chosen"]][0]
    assert row["params"] == stored["params"]
    assert abs(row["val_loss"] - stored["val_loss"]) < 1e-9
    assert (row["val"], row["test"]) == (stored["val"], stored["test"])
