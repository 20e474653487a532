"""dismantle.TransformerEncoderLayer against torch.nn.TransformerEncoderLayer (float64).

torch's state_dict loads into ours; the output and the gradient of the input and of every one of
the twelve parameters must agree to 1e-10 (measured: below 1e-13), pre-norm and post-norm, with
and without a causal mask; finite differences check the same gradients without torch, and each
check is shown to catch a planted fault.
"""

import numpy as np
import pytest
import torch

import dismantle as dm
from dismantle import attention

TOL = 1e-10  # the bound; float64 on both sides, only the order of the sums differs


def twins(d_model=8, nhead=2, ff=16, norm_first=True, batch_first=True, bias=True, seed=0):
    """torch's layer (float64, dropout 0, random biases and norms) and ours loaded from its state_dict."""
    torch.manual_seed(seed)
    gold = torch.nn.TransformerEncoderLayer(d_model, nhead, ff, dropout=0.0, activation="relu", batch_first=batch_first,
                                            norm_first=norm_first, bias=bias, dtype=torch.float64)
    with torch.no_grad():  # torch starts biases at 0 and norms at 1: move them so that every gradient matters
        for name, p in gold.named_parameters():
            if "bias" in name or "norm" in name:
                p.add_(0.3 * torch.randn_like(p))
    ours = dm.TransformerEncoderLayer(d_model, nhead, ff, dropout=0.0, batch_first=batch_first, norm_first=norm_first,
                                      bias=bias, rng=seed)
    ours.load_state_dict({key: value.numpy() for key, value in gold.state_dict().items()})
    return gold, ours


def errors(gold, ours, x, g, **kw):
    """{quantity: max |ours - torch|} for the output, dL/dsrc and every parameter's gradient."""
    tkw = {name: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for name, v in kw.items()}
    gold.zero_grad()
    ours.zero_grad()
    tx = torch.tensor(x, requires_grad=True)
    out = gold(tx, **tkw)
    out.backward(torch.from_numpy(g))
    y = ours(x, **kw)
    dx = ours.backward(g)
    found = {"output": np.abs(y - out.detach().numpy()).max(), "dL/dsrc": np.abs(dx - tx.grad.numpy()).max()}
    theirs = dict(gold.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(theirs)
    for name, p in ours.named_parameters():
        found[f"dL/d {name}"] = np.abs(p.grad - theirs[name].grad.numpy()).max()
    return {key: float(value) for key, value in found.items()}


def data(seed=1, n=3, length=5, d_model=8):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, length, d_model)), rng.normal(size=(n, length, d_model))


CAUSAL_BOOL = np.triu(np.ones((5, 5), bool), 1)
CAUSAL_FLOAT = np.triu(np.full((5, 5), -np.inf), 1)  # torch's generate_square_subsequent_mask
PADDING = np.zeros((3, 5), bool)
PADDING[0, 3:] = True

CASES = {
    "no mask": {},
    "causal (bool, is_causal)": {"src_mask": CAUSAL_BOOL, "is_causal": True},
    "causal (float)": {"src_mask": CAUSAL_FLOAT},
    "causal (float) + key padding": {"src_mask": CAUSAL_FLOAT, "src_key_padding_mask": np.where(PADDING, -np.inf, 0.0)},
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("norm_first", [True, False])
def test_block_matches_torch_output_and_every_gradient(case, norm_first):
    gold, ours = twins(norm_first=norm_first)
    found = errors(gold, ours, *data(), **CASES[case])
    assert len(found) == 14  # output, dL/dsrc and 12 parameters
    assert max(found.values()) < TOL, found


@pytest.mark.parametrize("batch_first, bias", [(False, True), (True, False)])
def test_block_matches_torch_sequence_first_and_without_bias(batch_first, bias):
    gold, ours = twins(batch_first=batch_first, bias=bias)
    x, g = data(2)
    if not batch_first:
        x, g = np.ascontiguousarray(x.transpose(1, 0, 2)), np.ascontiguousarray(g.transpose(1, 0, 2))
    assert max(errors(gold, ours, x, g, src_mask=CAUSAL_BOOL).values()) < TOL


def test_block_matches_torch_inference_fast_path():
    """In eval mode without grad, torch runs a fused kernel; the output must still agree."""
    gold, ours = twins()
    x, _ = data(3)
    gold.eval()
    ours.eval()
    with torch.no_grad():
        theirs = gold(torch.from_numpy(x)).numpy()
    with dm.no_grad():
        assert np.abs(ours(x) - theirs).max() < TOL


def test_state_dict_round_trip_with_torch():
    gold, ours = twins()
    assert list(ours.state_dict()) == list(gold.state_dict())
    back = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=True,
                                            dtype=torch.float64)
    back.load_state_dict({key: torch.from_numpy(value) for key, value in ours.state_dict().items()})
    for key, value in gold.state_dict().items():
        assert torch.equal(back.state_dict()[key], value), key


@pytest.mark.parametrize("norm_first", [True, False])
def test_block_gradients_pass_finite_differences(norm_first):
    _, ours = twins(d_model=4, nhead=2, ff=6, norm_first=norm_first)
    x, g = data(4, n=2, length=3, d_model=4)
    mask = np.triu(np.ones((3, 3), bool), 1)
    ours.zero_grad(set_to_none=False)
    ours(x, src_mask=mask)
    dx = ours.backward(g)
    params = [p for _, p in ours.named_parameters()]
    loss = lambda *_: float(np.sum(g * ours(x, src_mask=mask)))  # noqa: E731
    assert dm.gradcheck(loss, [x] + [p.data for p in params], [dx] + [p.grad for p in params], atol=1e-7, rtol=1e-5)


def test_input_grad_false_gives_the_same_parameter_gradients():
    for norm_first in (True, False):
        _, ours = twins(norm_first=norm_first)
        x, g = data(5)
        ours(x)
        ours.backward(g)
        expected = {name: p.grad.copy() for name, p in ours.named_parameters()}
        ours.zero_grad()
        ours(x)
        assert ours.backward(g, input_grad=False) is None
        for name, p in ours.named_parameters():
            np.testing.assert_array_equal(p.grad, expected[name], err_msg=name)


# --- planted faults -----------------------------------------------------------------------------------


def test_planted_self_attention_gradient_of_query_only_is_caught(monkeypatch):
    """Forgetting that x is also the key and the value: dL/dsrc and norm1's gradients go wrong."""
    gold, ours = twins()
    monkeypatch.setattr(dm.TransformerEncoderLayer, "_sa_backward",
                        lambda self, g, input_grad=True: self.self_attn.backward(self.dropout1.backward(g))[0])
    found = errors(gold, ours, *data(6))
    assert found["dL/dsrc"] > 1e-3 and found["dL/d norm1.weight"] > 1e-3
    assert found["dL/d linear1.weight"] < TOL  # the MLP half is untouched: the check names what broke


def test_planted_residual_gradient_dropped_is_caught(monkeypatch):
    gold, ours = twins()

    def no_skip(self, grad_output, *, input_grad=True):  # pre-norm, but dh = norm2's branch only
        (shape,) = self.saved()
        dh = self.norm2.backward(self._ff_backward(grad_output))
        return dh + self.norm1.backward(self._sa_backward(dh))

    assert errors(gold, ours, *data(7))["dL/d self_attn.in_proj_weight"] < TOL
    monkeypatch.setattr(dm.TransformerEncoderLayer, "backward", no_skip)
    assert errors(gold, ours, *data(7))["dL/d self_attn.in_proj_weight"] > 1e-3


def test_planted_missing_scale_and_heads_in_the_wrong_order_are_caught_in_the_block(monkeypatch):
    gold, ours = twins()
    args = data(8)
    right = attention.attention_forward
    with monkeypatch.context() as m:
        m.setattr(attention, "attention_forward", lambda q, k, v, mask, scale, *rest, **kw: right(q, k, v, mask, 1.0,
                                                                                                   *rest, **kw))
        assert errors(gold, ours, *args)["output"] > 1e-3
    monkeypatch.setattr(dm.MultiheadAttention, "_split",
                        lambda self, x: x.reshape(x.shape[0], self.num_heads, x.shape[1], self.head_dim))
    monkeypatch.setattr(dm.MultiheadAttention, "_merge", lambda self, x: x.reshape(x.shape[0], x.shape[2], -1))
    assert errors(gold, ours, *args)["output"] > 1e-3


# --- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("x, kw, error, message", [
    (np.ones((3, 5, 6)), {}, ValueError, r"src: expected \(N, L, E\) or unbatched \(L, E\) with E=d_model=8, got"),
    (np.ones((3, 5, 8), np.float32), {}, TypeError, r"expected dtype float64, got float32"),
    (np.ones((3, 5, 8)), {"src_mask": np.ones((5, 4), bool)}, ValueError, r"attn_mask: expected shape \(5, 5\)"),
    (np.ones((3, 5, 8)), {"is_causal": True}, ValueError, r"need attn_mask if specifying the is_causal hint"),
])
def test_bad_input_is_named(x, kw, error, message):
    _, ours = twins()
    with pytest.raises(error, match=message):
        ours(x, **kw)


def test_bad_construction_is_named():
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads"):
        dm.TransformerEncoderLayer(8, 3)
    with pytest.raises(ValueError, match='activation must be "relu" or a dismantle activation layer'):
        dm.TransformerEncoderLayer(8, 2, activation="gelu")
    with pytest.raises(ValueError, match="between 0 and 1"):
        dm.TransformerEncoderLayer(8, 2, dropout=2.0)


def test_dropout_in_training_is_seeded_and_off_in_eval():
    block = dm.TransformerEncoderLayer(8, 2, 16, dropout=0.5, batch_first=True, rng=0)
    again = dm.TransformerEncoderLayer(8, 2, 16, dropout=0.5, batch_first=True, rng=0)
    x, g = data(9)
    assert np.array_equal(block(x), again(x))
    assert not np.array_equal(block(x), block(x))  # a new mask every call
    block.eval()
    assert np.array_equal(block(x), block(x))
    block.backward(g)  # eval mode: backward through the identity dropouts
