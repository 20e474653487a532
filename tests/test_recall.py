"""The transformer chapter's three-seed table is the output of benchmarks/recall.py.

Training 84 models is too slow for the page and for the suite, so the script writes its results
to benchmarks/recall.json, and this test holds it: the file's choices are the best mean
validation accuracy of each family, only the chosen settings were scored on the test pile, and
a fresh run of the first steps of seed 0 of the chosen transformer gives the loss the file stored at every one of those
steps (to 1e-9: the run is deterministic, and its first steps are not chaotic across BLAS
kernels). Planted faults (a shorter warmup, a value embedding that never learns) show the
re-run bites. No time is asserted.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import recall  # noqa: E402

RESULTS = json.loads(recall.RESULTS.read_text())
FIRST = 40  # steps re-run: about a second
def first_losses(fault=None):
    """The loss at each of the first FIRST steps of seed 0 of the chosen transformer."""
    name = RESULTS["chosen"]["transformer"]
    setting = recall.setting(name)
    model = setting["make"](0)
    if fault == "frozen values":
        model.value_embed.backward = lambda g, **kw: None  # its rows never get a gradient
    warmup = recall.WARMUP
    if fault == "short warmup":
        recall.WARMUP = 10
    try:
        return np.array(recall.train(model, recall.piles()[0], setting["lr"], setting["steps"], 0,
                                     record=True, stop=FIRST))
    finally:
        recall.WARMUP = warmup


@pytest.fixture(scope="module")
def fresh():
    return first_losses()


def test_the_choices_are_the_best_validation_accuracy_and_the_test_pile_was_left_alone():
    for family, rows in RESULTS["candidates"].items():
        assert list(rows) == list(recall.CANDIDATES[family])
        assert RESULTS["chosen"][family] == recall.best(rows)
        assert all("test" not in r for runs in rows.values() for r in runs)
        assert len(RESULTS["final"][family]) >= 3
        for final, tried in zip(RESULTS["final"][family], rows[RESULTS["chosen"][family]], strict=True):
            assert {k: v for k, v in final.items() if k != "test"} == tried


def test_the_models_have_a_similar_size():
    sizes = [RESULTS["final"][family][0]["params"] for family in ("transformer", "MLP")]
    assert max(sizes) / min(sizes) < 1.1, sizes


def test_seed_0_of_the_chosen_transformer_retrains_to_the_files_losses(fresh):
    np.testing.assert_allclose(fresh, RESULTS["losses"][:FIRST], rtol=0, atol=1e-9)
    assert fresh[-1] < fresh[0]  # it learns


@pytest.mark.parametrize("fault", ["short warmup", "frozen values"])
def test_a_planted_fault_in_the_recipe_is_caught(fault):
    planted = first_losses(fault)
    assert np.abs(planted - RESULTS["losses"][:FIRST]).max() > 1e-6
