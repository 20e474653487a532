"""Attention against torch (float64): scaled_dot_product_attention and MultiheadAttention.

Every output and every gradient is compared with torch's autograd in float64, checked by
central finite differences, and each check is shown to catch the fault it exists for (the
scale left out, the mask applied after softmax, the heads split in the wrong order, softmax's
Jacobian cut short).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import dismantle as dm
from dismantle import attention
from dismantle import functional as F

TOL = 1e-12  # float64 on both sides: only the order of the sums differs (measured below 1e-14)


def t(x, grad=False):
    return torch.tensor(x, dtype=torch.float64, requires_grad=grad)


def max_err(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b), initial=0.0))


# --- scaled_dot_product_attention ---------------------------------------------------------------------


def sdpa_errors(q, k, v, g, **kw):
    """{quantity: max |ours - torch|} for the output and the three input gradients."""
    tq, tk, tv = t(q, True), t(k, True), t(v, True)
    tkw = dict(kw)
    if isinstance(kw.get("attn_mask"), np.ndarray):
        tkw["attn_mask"] = torch.from_numpy(kw["attn_mask"])
    out = TF.scaled_dot_product_attention(tq, tk, tv, **tkw)
    out.backward(torch.from_numpy(g))
    ours = F.scaled_dot_product_attention(q, k, v, **kw)
    dq, dk, dv = F.scaled_dot_product_attention_backward(g, q, k, v, **kw)
    return {"output": max_err(ours, out.detach()), "dL/dquery": max_err(dq, tq.grad),
            "dL/dkey": max_err(dk, tk.grad), "dL/dvalue": max_err(dv, tv.grad)}


def operands(seed, batch=(2,), n_query=4, n_key=5, e=3, ev=2):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=batch + (n_query, e))
    k = rng.normal(size=batch + (n_key, e))
    v = rng.normal(size=batch + (n_key, ev))
    g = rng.normal(size=batch + (n_query, ev))
    return q, k, v, g


def masks(n_query, n_key, rng):
    keep = rng.random((n_query, n_key)) < 0.6
    keep[:, 0] = True  # every query sees at least one key
    bias = rng.normal(size=(n_query, n_key))
    bias[~keep] = -np.inf
    return {"none": {}, "bool": {"attn_mask": keep}, "float": {"attn_mask": bias},
            "bool broadcast (1, 1, S)": {"attn_mask": keep[:1][None]}, "causal": {"is_causal": True},
            "scale 0.7": {"scale": 0.7}}


@pytest.mark.parametrize("case", ["none", "bool", "float", "bool broadcast (1, 1, S)", "causal", "scale 0.7"])
@pytest.mark.parametrize("n_query, n_key", [(4, 5), (5, 5), (6, 3)])
def test_sdpa_matches_torch(case, n_query, n_key):
    q, k, v, g = operands(0, n_query=n_query, n_key=n_key)
    kw = masks(n_query, n_key, np.random.default_rng(1))[case]
    errors = sdpa_errors(q, k, v, g, **kw)
    assert max(errors.values()) < TOL, errors


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_query=st.integers(1, 6), n_key=st.integers(1, 6), e=st.integers(1, 5),
       ev=st.integers(1, 4), heads=st.integers(1, 3))
def test_sdpa_matches_torch_on_random_shapes(seed, n_query, n_key, e, ev, heads):
    q, k, v, g = operands(seed, (2, heads), n_query, n_key, e, ev)
    assert max(sdpa_errors(q, k, v, g).values()) < TOL


def test_sdpa_broadcast_batch_axes_sum_their_gradients():
    rng = np.random.default_rng(2)
    q = rng.normal(size=(2, 3, 4, 5))  # (N, h, L, E): every head of one key/value pair
    k, v = rng.normal(size=(2, 1, 6, 5)), rng.normal(size=(6, 2))
    g = rng.normal(size=(2, 3, 4, 2))
    errors = sdpa_errors(q, k, v, g, attn_mask=rng.normal(size=(4, 6)))
    assert max(errors.values()) < TOL, errors


def test_sdpa_fully_masked_query_gives_zero_output_and_zero_gradient_as_torch():
    q, k, v, g = operands(3)
    keep = np.ones((4, 5), bool)
    keep[1] = False  # query 1 may look nowhere
    minus_inf = np.where(keep, 0.0, -np.inf)
    for mask in (keep, minus_inf):
        errors = sdpa_errors(q, k, v, g, attn_mask=mask)
        assert max(errors.values()) == 0 or max(errors.values()) < TOL, errors
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        dq, _, _ = F.scaled_dot_product_attention_backward(g, q, k, v, attn_mask=mask)
        assert np.all(out[:, 1] == 0) and np.all(dq[:, 1] == 0) and np.isfinite(out).all()


def test_sdpa_gradients_pass_finite_differences():
    q, k, v, g = operands(4)
    mask = np.random.default_rng(5).normal(size=(4, 5))
    loss = lambda *_: float(np.sum(g * F.scaled_dot_product_attention(q, k, v, attn_mask=mask)))  # noqa: E731
    grads = F.scaled_dot_product_attention_backward(g, q, k, v, attn_mask=mask)
    assert dm.gradcheck(loss, [q, k, v], list(grads), atol=1e-8, rtol=1e-6)


def test_sdpa_dropout_with_a_given_mask_matches_torch_arithmetic():
    """torch's random mask cannot be reproduced; with the same mask, the arithmetic must agree."""
    q, k, v, g = operands(6)
    rng = np.random.default_rng(7)
    kept = rng.random((2, 4, 5)) >= 0.3
    tq, tk, tv = t(q, True), t(k, True), t(v, True)
    p = torch.softmax(tq @ tk.transpose(-1, -2) / np.sqrt(3), dim=-1)
    out = (p * torch.from_numpy(kept) / (1 - 0.3)) @ tv
    out.backward(torch.from_numpy(g))
    ours = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3, dropout_mask=kept)
    grads = F.scaled_dot_product_attention_backward(g, q, k, v, dropout_p=0.3, dropout_mask=kept)
    assert max_err(ours, out.detach()) < TOL
    for ours_grad, theirs in zip(grads, (tq.grad, tk.grad, tv.grad)):
        assert max_err(ours_grad, theirs) < TOL
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3, rng=8)
    assert np.array_equal(a, F.scaled_dot_product_attention(q, k, v, dropout_p=0.3, rng=8))  # seeded
    assert np.array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0, rng=8), np.zeros((2, 4, 2)))


# --- planted faults: each check catches the fault it exists for ----------------------------------------


def _softmax_after_mask_bug(q, k, v, mask, scale, keep=None, safe=True):
    """The mask applied after softmax: masked weights zeroed, the rest not renormalised."""
    p = F.softmax((q @ np.swapaxes(k, -1, -2)) * scale)
    if mask is not None:
        p = np.where(np.isneginf(mask), 0.0, p)
    return p @ v, p


def test_planted_missing_scale_is_caught(monkeypatch):
    q, k, v, g = operands(9, e=4)
    monkeypatch.setattr(attention, "_scale", lambda scale, e, name: 1.0)
    assert sdpa_errors(q, k, v, g)["output"] > 1e-3


def test_planted_mask_after_softmax_is_caught(monkeypatch):
    q, k, v, g = operands(10)
    monkeypatch.setattr(attention, "attention_forward", _softmax_after_mask_bug)
    assert sdpa_errors(q, k, v, g, is_causal=True)["output"] > 1e-3
    assert sdpa_errors(q, k, v, g)["output"] < TOL  # without a mask the fault is invisible: the mask cases matter


def test_planted_jacobian_without_its_rank_one_term_is_caught_by_torch_and_finite_differences(monkeypatch):
    q, k, v, g = operands(11)

    def bad_backward(grad_output, q, k, v, p, scale, keep=None):
        dv = np.swapaxes(p, -1, -2) @ grad_output
        ds = p * (grad_output @ np.swapaxes(v, -1, -2))  # diag(p) only: the - p p^T term forgotten
        return (ds @ k) * scale, (np.swapaxes(ds, -1, -2) @ q) * scale, dv

    monkeypatch.setattr(attention, "attention_backward", bad_backward)
    assert sdpa_errors(q, k, v, g)["dL/dquery"] > 1e-3
    loss = lambda *_: float(np.sum(g * F.scaled_dot_product_attention(q, k, v)))  # noqa: E731
    with pytest.raises(dm.GradcheckError):
        dm.gradcheck(loss, [q, k, v], list(F.scaled_dot_product_attention_backward(g, q, k, v)))


# --- clear errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("change, error, message", [
    (dict(query=np.ones(3)), ValueError, r"query: expected at least 2-D \(\.\.\., L, E\), got shape \(3,\)"),
    (dict(key=np.ones((2, 5, 4))), ValueError, r"query and key must have the same last size E"),
    (dict(value=np.ones((2, 4, 2))), ValueError, r"key and value must have the same number of positions S"),
    (dict(key=np.ones((3, 5, 3))), ValueError, r"batch axes .* do not broadcast"),
    (dict(value=np.ones((2, 5, 2), np.float32)), TypeError, r"value: expected dtype float64, got float32"),
    (dict(query=np.ones((2, 4, 3), int)), TypeError, r"expected dtype float32 or float64, got int64"),
    (dict(query=np.full((2, 4, 3), np.nan)), ValueError, r"query: expected numbers .* got NaN"),
    (dict(attn_mask=np.ones((4, 4), bool)), ValueError, r"attn_mask: shape \(4, 4\) does not broadcast to .* \(2, 4, 5\)"),
    (dict(attn_mask=np.ones((4, 5), int)), TypeError, r"attn_mask: expected dtype bool or float64 .*, got int64"),
    (dict(attn_mask=np.ones((4, 5), bool), is_causal=True), ValueError, r"should not be set when is_causal=True"),
    (dict(dropout_p=1.5), ValueError, r"between 0 and 1, but got 1.5"),
    (dict(scale="big"), TypeError, r"scale must be None or a finite real number"),
])
def test_sdpa_bad_arguments_are_named(change, error, message):
    q, k, v, _ = operands(12)
    args = dict(query=q, key=k, value=v) | change
    with pytest.raises(error, match=message):
        F.scaled_dot_product_attention(**args)


def test_sdpa_backward_names_a_wrong_grad_and_a_missing_dropout_mask():
    q, k, v, g = operands(13)
    with pytest.raises(ValueError, match=r"grad_output: expected shape \(2, 4, 2\), got \(2, 4, 3\)"):
        F.scaled_dot_product_attention_backward(np.ones((2, 4, 3)), q, k, v)
    with pytest.raises(ValueError, match="needs the forward pass's dropout_mask"):
        F.scaled_dot_product_attention_backward(g, q, k, v, dropout_p=0.5)


# --- MultiheadAttention -----------------------------------------------------------------------------------


def twins(e=6, h=2, bias=True, batch_first=True, seed=0):
    """A torch MultiheadAttention (float64) and ours holding its weights."""
    torch.manual_seed(seed)
    gold = torch.nn.MultiheadAttention(e, h, bias=bias, batch_first=batch_first, dtype=torch.float64)
    with torch.no_grad():  # torch zeroes the biases: give them values, so that their gradients matter
        for name, p in gold.named_parameters():
            if "bias" in name:
                p.normal_()
    ours = dm.MultiheadAttention(e, h, bias=bias, batch_first=batch_first, rng=seed)
    ours.load_state_dict({key: value.numpy() for key, value in gold.state_dict().items()})
    return gold, ours


def mha_errors(gold, ours, query, key, value, g, self_attention=False, **kw):
    """{quantity: max |ours - torch|}: output, weights, the inputs' and every parameter's gradient."""
    tkw = {name: torch.from_numpy(x) if isinstance(x, np.ndarray) else x for name, x in kw.items()}
    gold.zero_grad()
    ours.zero_grad()
    if self_attention:
        tx = t(query, True)
        tq = tk = tv = tx
    else:
        tq, tk, tv = t(query, True), t(key, True), t(value, True)
    out, weights = gold(tq, tk, tv, **tkw)
    out.backward(torch.from_numpy(g))
    ours_out, ours_weights = ours(query, query if self_attention else key, query if self_attention else value, **kw)
    grads = ours.backward(g)
    errors = {"output": max_err(ours_out, out.detach())}
    if weights is not None or ours_weights is not None:
        errors["weights"] = max_err(ours_weights, weights.detach())
    if self_attention:
        errors["dL/dx (sum of three)"] = max_err(sum(grads), tx.grad)
    else:
        for name, ours_grad, tensor in zip(("dL/dquery", "dL/dkey", "dL/dvalue"), grads, (tq, tk, tv)):
            errors[name] = max_err(ours_grad, tensor.grad)
    theirs = dict(gold.named_parameters())
    for name, p in ours.named_parameters():
        errors[f"dL/d {name}"] = max_err(p.grad, theirs[name].grad)
    return errors


def mha_inputs(seed, n=3, n_query=4, n_key=5, e=6):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, n_query, e)), rng.normal(size=(n, n_key, e)), rng.normal(size=(n, n_key, e)),
            rng.normal(size=(n, n_query, e)))


def _kpm(kind):
    pad = np.zeros((3, 5), bool)
    pad[0, 3:] = True  # the last two keys of sequence 0 are padding
    pad[2, 1] = True
    return pad if kind == "bool" else np.where(pad, -np.inf, 0.0)


MHA_CASES = {
    "no mask": {},
    "no mask, per-head weights": {"average_attn_weights": False},
    "need_weights=False": {"need_weights": False},
    "key_padding_mask bool": {"key_padding_mask": _kpm("bool")},
    "key_padding_mask float": {"key_padding_mask": _kpm("float")},
    "attn_mask bool (L, S)": {"attn_mask": np.triu(np.ones((4, 5), bool), 1)},
    "attn_mask float (L, S)": {"attn_mask": np.random.default_rng(3).normal(size=(4, 5))},
    "attn_mask (N*h, L, S) + key_padding_mask": {"attn_mask": np.random.default_rng(4).normal(size=(6, 4, 5)),
                                                 "key_padding_mask": _kpm("float")},
}


@pytest.mark.parametrize("case", list(MHA_CASES))
def test_mha_matches_torch_cross_attention(case):
    gold, ours = twins()
    errors = mha_errors(gold, ours, *mha_inputs(0), **MHA_CASES[case])
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("causal", ["bool", "float"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_matches_torch_causal_self_attention(causal, need_weights):
    gold, ours = twins()
    x, _, _, g = mha_inputs(1, n_key=4)
    mask = np.triu(np.ones((4, 4), bool), 1)
    mask = mask if causal == "bool" else np.where(mask, -np.inf, 0.0)
    errors = mha_errors(gold, ours, x, x, x, g, self_attention=True, attn_mask=mask, is_causal=True,
                        need_weights=need_weights)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("bias, batch_first", [(False, True), (True, False)])
def test_mha_matches_torch_without_bias_and_sequence_first(bias, batch_first):
    gold, ours = twins(bias=bias, batch_first=batch_first)
    q, k, v, g = mha_inputs(2)
    if not batch_first:
        q, k, v, g = (np.ascontiguousarray(np.swapaxes(a, 0, 1)) for a in (q, k, v, g))
    errors = mha_errors(gold, ours, q, k, v, g, key_padding_mask=_kpm("bool"))
    assert max(errors.values()) < TOL, errors


def test_mha_matches_torch_unbatched():
    gold, ours = twins()
    q, k, v, g = (a[0] for a in mha_inputs(3))
    errors = mha_errors(gold, ours, q, k, v, g, attn_mask=np.triu(np.ones((4, 5), bool), 1))
    assert max(errors.values()) < TOL, errors


def test_mha_fully_masked_query_is_nan_with_weights_and_zero_without_as_torch():
    gold, ours = twins()
    q, k, v, _ = mha_inputs(4)
    mask = np.zeros((4, 5), bool)
    mask[2] = True  # query 2 may look nowhere
    for need_weights in (True, False):
        theirs = gold(t(q), t(k), t(v), attn_mask=torch.from_numpy(mask), need_weights=need_weights)[0].detach().numpy()
        out = ours(q, k, v, attn_mask=mask, need_weights=need_weights)[0]
        np.testing.assert_array_equal(np.isnan(out), np.isnan(theirs))
        assert np.isnan(out[:, 2]).all() == need_weights
        assert max_err(np.nan_to_num(out), np.nan_to_num(theirs)) < TOL


def test_mha_is_causal_trusts_the_hint_like_torch():
    """With is_causal and no weights asked for, torch uses the causal mask, not attn_mask's content."""
    gold, ours = twins()
    x, _, _, g = mha_inputs(5, n_key=4)
    not_causal = np.zeros((4, 4), bool)
    errors = mha_errors(gold, ours, x, x, x, g, self_attention=True, attn_mask=not_causal, is_causal=True,
                        need_weights=False)
    assert max(errors.values()) < TOL, errors
    causal_out = ours(x, x, x, attn_mask=np.triu(np.ones((4, 4), bool), 1), need_weights=False)[0]
    assert max_err(ours(x, x, x, attn_mask=not_causal, is_causal=True, need_weights=False)[0], causal_out) == 0


def test_mha_gradients_pass_finite_differences():
    _, ours = twins(e=4, h=2)
    q, k, v, g = mha_inputs(6, n=2, n_query=3, n_key=4, e=4)
    mask = np.triu(np.ones((3, 4), bool), 2)
    ours.zero_grad(set_to_none=False)
    ours(q, k, v, attn_mask=mask)
    dq, dk, dv = ours.backward(g)
    params = [p for _, p in ours.named_parameters()]
    loss = lambda *_: float(np.sum(g * ours(q, k, v, attn_mask=mask)[0]))  # noqa: E731
    assert dm.gradcheck(loss, [q, k, v] + [p.data for p in params], [dq, dk, dv] + [p.grad for p in params],
                        atol=1e-8, rtol=1e-6)


def test_mha_state_dict_round_trip_with_torch():
    gold, ours = twins()
    assert list(ours.state_dict()) == list(gold.state_dict()) == [
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    back = torch.nn.MultiheadAttention(6, 2, batch_first=True, dtype=torch.float64)
    back.load_state_dict({key: torch.from_numpy(value) for key, value in ours.state_dict().items()})
    for key, value in gold.state_dict().items():
        assert torch.equal(back.state_dict()[key], value)


def test_mha_initialisation_follows_torch():
    mha = dm.MultiheadAttention(8, 2, rng=0)
    bound = np.sqrt(6 / (8 + 24))  # xavier_uniform_ over the (3E, E) matrix
    assert 0.9 * bound < np.abs(mha.in_proj_weight.data).max() <= bound
    assert not mha.in_proj_bias.data.any() and not mha.out_proj.bias.data.any()
    assert np.abs(mha.out_proj.weight.data).max() <= 1 / np.sqrt(8)


def test_mha_dropout_one_in_training_leaves_only_the_output_bias_and_is_off_in_eval():
    _, ours = twins()
    ours.dropout = 1.0
    q, k, v, _ = mha_inputs(7)
    out, weights = ours(q, k, v)
    np.testing.assert_array_equal(out, np.broadcast_to(ours.out_proj.bias.data, out.shape))
    assert not weights.any()
    ours.eval()
    ours.dropout = 0.0
    reference = ours(q, k, v)[0]
    ours.dropout = 1.0
    np.testing.assert_array_equal(ours(q, k, v)[0], reference)


def test_mha_input_grad_false_returns_none_and_the_same_parameter_grads():
    _, ours = twins()
    q, k, v, g = mha_inputs(8)
    ours(q, k, v)
    ours.backward(g)
    expected = {name: p.grad.copy() for name, p in ours.named_parameters()}
    ours.zero_grad()
    ours(q, k, v)
    assert ours.backward(g, input_grad=False) is None
    for name, p in ours.named_parameters():
        np.testing.assert_array_equal(p.grad, expected[name], err_msg=name)


def test_planted_heads_split_in_the_wrong_order_is_caught(monkeypatch):
    """(N, L, E) reshaped straight to (N, h, L, d): every head gets rows of the wrong positions."""
    gold, ours = twins()
    args = mha_inputs(9)

    def split(self, x):
        n, length, _ = x.shape
        return x.reshape(n, self.num_heads, length, self.head_dim)

    def merge(self, x):
        n, _, length, _ = x.shape
        return x.reshape(n, length, self.embed_dim)

    assert max(mha_errors(gold, ours, *args).values()) < TOL
    monkeypatch.setattr(dm.MultiheadAttention, "_split", split)
    monkeypatch.setattr(dm.MultiheadAttention, "_merge", merge)
    assert mha_errors(gold, ours, *args)["output"] > 1e-3


def test_planted_missing_scale_and_mask_after_softmax_are_caught_in_mha(monkeypatch):
    gold, ours = twins()
    args = mha_inputs(10)
    causal = {"attn_mask": np.triu(np.ones((4, 5), bool), 1)}
    right = attention.attention_forward
    with monkeypatch.context() as m:  # the scores not divided by sqrt(d)
        m.setattr(attention, "attention_forward", lambda q, k, v, mask, scale, *rest, **kw: right(q, k, v, mask, 1.0,
                                                                                                   *rest, **kw))
        assert mha_errors(gold, ours, *args)["output"] > 1e-3
    monkeypatch.setattr(attention, "attention_forward", _softmax_after_mask_bug)
    assert mha_errors(gold, ours, *args, **causal)["output"] > 1e-3


@pytest.mark.parametrize("call, error, message", [
    (lambda m, x: m(x, x[:, :, :4], x[:, :, :4]), ValueError, r"key: expected last size embed_dim=6, got shape"),
    (lambda m, x: m(x, x[0], x[0]), ValueError, r"key: expected a 3-D array like query"),
    (lambda m, x: m(x, x[:2], x[:2]), ValueError, r"query and key must have the same batch size"),
    (lambda m, x: m(x, x, x[:, :3]), ValueError, r"key and value must have the same shape"),
    (lambda m, x: m(x.astype(np.float32), x, x), TypeError, r"query: expected dtype float64, got float32"),
    (lambda m, x: m(x, x, x, key_padding_mask=np.zeros((3, 4), bool)), ValueError,
     r"key_padding_mask: expected shape \(3, 5\) \(True = ignore that key\), got \(3, 4\)"),
    (lambda m, x: m(x, x, x, attn_mask=np.zeros((5, 4), bool)), ValueError,
     r"attn_mask: expected shape \(5, 5\) or \(6, 5, 5\), got \(5, 4\)"),
    (lambda m, x: m(x, x, x, attn_mask=np.zeros((5, 5), int)), TypeError, r"expected dtype bool or float64"),
    (lambda m, x: m(x, x, x, is_causal=True), ValueError, r"need attn_mask if specifying the is_causal hint"),
])
def test_mha_bad_input_is_named_and_changes_nothing(call, error, message):
    _, ours = twins()
    x = np.random.default_rng(11).normal(size=(3, 5, 6))
    before = ours.state_dict()
    with pytest.raises(error, match=message):
        call(ours, x)
    assert ours._saved == [] and ours.out_proj._saved == []
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(embed_dim=6, num_heads=4), ValueError, r"embed_dim must be divisible by num_heads"),
    (dict(embed_dim=6, num_heads=0), ValueError, r"num_heads must be a positive int"),
    (dict(embed_dim=6, num_heads=2, kdim=3), ValueError, r"kdim=3 is not supported"),
    (dict(embed_dim=6, num_heads=2, add_bias_kv=True), ValueError, r"add_bias_kv=True is not supported"),
    (dict(embed_dim=6, num_heads=2, dropout=-0.1), ValueError, r"between 0 and 1"),
    (dict(embed_dim=6, num_heads=2, dtype=np.int32), TypeError, r"dtype must be float32 or float64"),
])
def test_mha_bad_construction_is_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        dm.MultiheadAttention(**kwargs)


def test_mha_backward_checks_grad_output_and_runs_once():
    _, ours = twins()
    q, k, v, g = mha_inputs(12)
    ours(q, k, v)
    with pytest.raises(ValueError, match=r"grad_output: expected shape \(3, 4, 6\), got \(3, 5, 6\)"):
        ours.backward(np.ones((3, 5, 6)))
    ours.backward(g)
    with pytest.raises(ValueError, match="called twice"):
        ours.backward(g)


def test_mha_float32_in_float32_out():
    mha = dm.MultiheadAttention(4, 2, batch_first=True, rng=0, dtype=np.float32)
    x = np.ones((2, 3, 4), np.float32)
    out, weights = mha(x, x, x)
    assert out.dtype == weights.dtype == np.float32
    assert all(d.dtype == np.float32 for d in mha.backward(np.ones_like(out)))
    assert mha.in_proj_weight.grad.dtype == np.float32
