"""dismantle.Embedding against torch.nn.Embedding (float64) and against finite differences."""

import numpy as np
import pytest
import torch

import dismantle as dm
from dismantle import embedding

TOL = 1e-15  # a lookup copies and the gradient only adds rows: exact up to the order of the additions


def twin(ours):
    gold = torch.nn.Embedding(ours.num_embeddings, ours.embedding_dim, padding_idx=ours.padding_idx,
                              dtype=torch.float64)
    gold.load_state_dict({key: torch.from_numpy(value) for key, value in ours.state_dict().items()})
    return gold


def errors(ours, idx, g):
    gold = twin(ours)
    ours.zero_grad()
    out = gold(torch.from_numpy(idx))
    out.backward(torch.from_numpy(g))
    mine = ours(idx)
    assert ours.backward(g) is None  # integer indices: no input gradient
    return {"output": float(np.abs(mine - out.detach().numpy()).max()),
            "dL/dweight": float(np.abs(ours.weight.grad - gold.weight.grad.numpy()).max())}


@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 2, 4)])
def test_matches_torch_with_repeated_indices_and_padding(padding_idx, shape):
    rng = np.random.default_rng(0)
    ours = dm.Embedding(6, 4, padding_idx=padding_idx, rng=rng)
    idx = rng.integers(0, 6, size=shape)
    idx.flat[:3] = [5, 0, 5]  # a repeated index, the padding row for padding_idx=0 and -1 (5)
    assert max(errors(ours, idx, rng.normal(size=shape + (4,))).values()) <= TOL


def test_padding_row_is_zero_and_stays_out_of_the_gradient():
    ours = dm.Embedding(5, 3, padding_idx=-2, rng=1)
    assert ours.padding_idx == 3 and not ours.weight.data[3].any()
    ours(np.array([3, 3, 1]))
    ours.backward(np.ones((3, 3)))
    np.testing.assert_array_equal(ours.weight.grad[[0, 2, 3, 4]], 0)
    np.testing.assert_array_equal(ours.weight.grad[1], [1.0, 1.0, 1.0])


def test_gradient_passes_finite_differences():
    rng = np.random.default_rng(2)
    ours = dm.Embedding(5, 3, rng=rng)
    idx, g = np.array([[1, 4, 1], [0, 1, 2]]), rng.normal(size=(2, 3, 3))
    ours.zero_grad(set_to_none=False)
    ours(idx)
    ours.backward(g)
    loss = lambda *_: float(np.sum(g * ours(idx)))  # noqa: E731
    assert dm.gradcheck(loss, [ours.weight.data], [ours.weight.grad])


def test_planted_assignment_instead_of_scatter_add_is_caught(monkeypatch):
    """`grad[idx] = g` keeps one occurrence of a repeated index: torch's gradient has their sum."""
    rng = np.random.default_rng(3)
    ours = dm.Embedding(6, 4, rng=rng)
    idx, g = np.array([2, 5, 2, 2]), rng.normal(size=(4, 4))

    def assign(grad, where, rows):
        grad[where] = rows

    assert errors(ours, idx, g)["dL/dweight"] <= TOL
    monkeypatch.setattr(embedding, "np", _NumpyWith(at=assign))  # np.add is a ufunc: replace numpy in the module
    assert errors(ours, idx, g)["dL/dweight"] > 1e-3


class _NumpyWith:
    """numpy, except that `np.add.at` is replaced: a planted fault in Embedding.backward only."""

    def __init__(self, at):
        self.add = type("add", (), {"at": staticmethod(at)})

    def __getattr__(self, name):
        return getattr(np, name)


def test_dtype_and_state_dict_follow_torch():
    ours = dm.Embedding(3, 2, rng=4, dtype=np.float32)
    assert ours(np.array([0, 2])).dtype == np.float32
    assert list(ours.state_dict()) == list(torch.nn.Embedding(3, 2).state_dict()) == ["weight"]
    big = dm.Embedding(1000, 100, rng=5)
    assert abs(big.weight.data.std() - 1) < 0.01 and abs(big.weight.data.mean()) < 0.01  # N(0, 1) as torch


@pytest.mark.parametrize("idx, error, message", [
    (np.array([0.0, 1.0]), TypeError, r"expected integer indices \(an int dtype\), got dtype float64"),
    ([0, 1], TypeError, r"expected a NumPy ndarray of integer indices, got list"),
    (np.array([[0, 4]]), ValueError, r"expected indices in \[0, 3\] for num_embeddings=4, got 4 at index \(0, 1\)"),
    (np.array([-1]), ValueError, r"got -1 at index \(0,\)"),
])
def test_bad_indices_are_named(idx, error, message):
    with pytest.raises(error, match=message):
        dm.Embedding(4, 2, rng=6)(idx)


@pytest.mark.parametrize("args, kwargs, error, message", [
    ((0, 2), {}, ValueError, "num_embeddings must be a positive int"),
    ((4, 2.0), {}, TypeError, "embedding_dim must be a positive int"),
    ((4, 2), {"padding_idx": 4}, ValueError, r"padding_idx must be within num_embeddings \(4\), got 4"),
    ((4, 2), {"padding_idx": -5}, ValueError, "padding_idx must be within num_embeddings"),
    ((4, 2), {"padding_idx": 1.0}, TypeError, "padding_idx must be None or an int, got float"),
    ((4, 2), {"dtype": np.int64}, TypeError, "dtype must be float32 or float64"),
])
def test_bad_construction_is_named(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        dm.Embedding(*args, **kwargs)


def test_backward_checks_its_gradient_and_runs_once():
    ours = dm.Embedding(4, 2, rng=7)
    ours(np.array([[1, 2, 3]]))
    with pytest.raises(ValueError, match=r"grad_output: expected shape \(1, 3, 2\), got \(3, 2\)"):
        ours.backward(np.ones((3, 2)))
    ours.backward(np.ones((1, 3, 2)))
    with pytest.raises(ValueError, match="called twice"):
        ours.backward(np.ones((1, 3, 2)))
