"""The five-seed tables of "A CNN on the digits" are the output of benchmarks/cnn_digits.py.

Training 60 networks is too slow for the page and for the suite, so the script writes its
results to benchmarks/cnn_digits.json (and seed 0's weights of the final choice to
cnn_digits_seed0.npz, for the figures), and this test holds both ends: the page's literal tables
must be the file's rows (to the digits shown), each round's choice must be the lowest mean
validation loss among the settings tried by then, only the rounds' choices (and the MLP) may have
test scores, and a fresh run of seed 0 of the final CNN must give the file's seed-0 row
(validation loss to 1e-9, accuracies exactly: they are counts of 180 and 179 images) and the
stored weights (to 1e-9). The page's Polaris, held here with faults planted: a torch twin of the
chosen CNN, loaded with the same weights, takes five steps of the recipe on the same batches with
torch's SGD and CosineAnnealingLR, and agrees to 1e-10 in loss and in every parameter (paired by
name, float64); momentum left out of our optimizer, or our schedule never stepped, is caught.
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

PAGE = (ROOT / "docs" / "cnn-digits.md").read_text(encoding="utf-8")
RESULTS = json.loads(cnn_digits.RESULTS.read_text())
MLP = "MLP (Training chapter)"


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
    assert "FIRST_ROUND = list(TRIED)[:6]" in PAGE and cnn_digits.ROUNDS[0] == list(cnn_digits.CANDIDATES)[:6]


def test_the_pages_final_table_is_the_scripts():
    final = page_literal("FINAL")
    first, second = RESULTS["rounds"]
    rows = {"MLP": second["final"][MLP], "CNN, round 1": first["final"][first["chosen"]],
            "CNN, round 2": second["final"][second["chosen"]]}
    assert list(final) == list(rows)
    np.testing.assert_array_equal([r["test"] for r in first["final"][MLP]], [r["test"] for r in rows["MLP"]])
    for page_name, stored in rows.items():
        assert final[page_name]["params"] == stored[0]["params"]
        for key in ("val", "test"):
            np.testing.assert_allclose(final[page_name][key], [r[key] for r in stored], rtol=0, atol=5e-5,
                                       err_msg=f"{page_name} {key}")


def check_rounds(results):
    """Each round chose the lowest mean validation loss among the settings tried by then; only the
    choices (and the MLP) carry test scores."""
    means = {name: np.mean([r["val_loss"] for r in rows]) for name, rows in results["candidates"].items()}
    assert [r["tried"] for r in results["rounds"]] == cnn_digits.ROUNDS
    for round_ in results["rounds"]:
        assert round_["chosen"] == min(round_["tried"], key=means.get), f"round chose {round_['chosen']}"
        assert list(round_["final"]) == [MLP, round_["chosen"]]
    assert all("test" not in r for rows in results["candidates"].values() for r in rows)


def test_each_choice_is_the_lowest_mean_validation_loss_and_only_the_choices_saw_the_test_pile():
    check_rounds(RESULTS)


def test_a_planted_choice_that_is_not_validations_would_be_caught():
    planted = json.loads(json.dumps(RESULTS))
    final = planted["rounds"][1]["final"]
    planted["rounds"][1]["chosen"] = "CNN 16-24, SGD 0.05, 15 epochs"  # say, picked by its test score
    planted["rounds"][1]["final"] = {MLP: final[MLP], "CNN 16-24, SGD 0.05, 15 epochs": []}
    with pytest.raises(AssertionError, match="round chose"):
        check_rounds(planted)


def test_a_planted_wrong_row_on_the_page_would_be_caught():
    final = page_literal("FINAL")
    second = RESULTS["rounds"][1]
    final["CNN, round 2"]["test"][0] += 1 / 179  # one more digit right than the script measured
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(final["CNN, round 2"]["test"], [r["test"] for r in second["final"][second["chosen"]]],
                                   rtol=0, atol=5e-5)


def test_shifted_copies_move_each_image_by_at_most_one_pixel():
    x = np.arange(2 * 64.0).reshape(2, 1, 8, 8) + 1
    moved = cnn_digits.shifted(x, np.random.default_rng(0))
    for before, after in zip(x[:, 0], moved[:, 0]):
        hits = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                if np.array_equal(np.roll(np.pad(before, 1), (dy, dx), axis=(0, 1))[1:9, 1:9], after)]
        assert len(hits) == 1, "one shift of at most a pixel each way, zeros coming in"


def test_seed_0_of_the_final_cnn_trains_to_the_files_row_and_the_stored_weights():
    chosen = RESULTS["rounds"][-1]["chosen"]
    row = cnn_digits.run(chosen, 0, test="later")
    state = row.pop("state")
    stored = RESULTS["rounds"][-1]["final"][chosen][0]
    assert row["params"] == stored["params"]
    assert abs(row["val_loss"] - stored["val_loss"]) < 1e-9
    assert row["val"] == stored["val"]
    assert cnn_digits.test_score(chosen, 0, state) == stored["test"]
    weights = np.load(cnn_digits.SEED0)
    assert sorted(weights.files) == sorted(state)
    for key, value in state.items():
        np.testing.assert_allclose(weights[key], value, rtol=0, atol=1e-9, err_msg=key)


# ---------------------------------------------------------------- the page's Polaris, with planted faults

def twin_gaps(steps=5, fault=None):
    """Largest gap in loss and in parameters (paired by name) between the chosen CNN and its torch
    twin after `steps` steps of the page's recipe on the same batches, the cosine schedule stepped
    after the third step as if an epoch had ended (float64)."""
    import torch

    import dismantle as dm

    ours = cnn_digits.make_cnn(0, 12, 24)
    twin = torch.nn.Sequential(
        torch.nn.Conv2d(1, 12, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(12, 24, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(96, 10)).double()
    twin.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})
    recipe = dict(lr=0.05, momentum=0.9)
    opt = dm.SGD(ours.parameters(), **dict(recipe, momentum=0.0) if fault == "no momentum" else recipe)
    t_opt = torch.optim.SGD(twin.parameters(), **recipe)
    schedule = dm.lr_scheduler.CosineAnnealingLR(opt, T_max=15)
    t_schedule = torch.optim.lr_scheduler.CosineAnnealingLR(t_opt, T_max=15)
    (x_train, y_train), _, _ = cnn_digits.piles()
    loss_fn, loss_gap = dm.CrossEntropyLoss(), 0.0
    handfuls = dm.batches(x_train.reshape(-1, 1, 8, 8), y_train, cnn_digits.BATCH, np.random.default_rng(1))
    for step, (xb, yb) in zip(range(1, steps + 1), handfuls):
        loss = loss_fn(ours(xb), yb)
        opt.zero_grad()
        ours.backward(loss_fn.backward(), input_grad=False)
        opt.step()
        t_loss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(xb)), torch.from_numpy(yb))
        t_opt.zero_grad()
        t_loss.backward()
        t_opt.step()
        if step == 3:
            if fault != "schedule not stepped":
                schedule.step()
            t_schedule.step()
        loss_gap = max(loss_gap, abs(loss - t_loss.item()))
    theirs = dict(twin.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(theirs)
    return loss_gap, max(np.abs(p.data - theirs[name].detach().numpy()).max() for name, p in ours.named_parameters())


def test_the_chosen_cnns_training_equals_torchs_for_the_first_steps():
    assert max(twin_gaps()) < 1e-10


@pytest.mark.parametrize("fault", ["no momentum", "schedule not stepped"])
def test_the_torch_twin_catches_a_planted_fault(fault):
    assert max(twin_gaps(fault=fault)) > 1e-6
