r"""Attention: `scaled_dot_product_attention`, its backward by hand, and `MultiheadAttention`.

Every query scores every key with a dot product, softmax turns a row of scores into weights,
and the output is the weighted average of the values:

$$
S = \frac{Q K^\top}{\sqrt{d}} + M, \qquad P = \mathrm{softmax}(S), \qquad O = P V,
$$

with $M$ an additive mask ($0$ where a query may look, $-\infty$ where it may not). The
backward pass runs the same three steps in reverse; the middle one is softmax's Jacobian,
$J = \mathrm{diag}(p) - p p^\top$, applied row by row without building it:

$$
\frac{\partial L}{\partial V} = P^\top G, \qquad
\frac{\partial L}{\partial P} = G V^\top, \qquad
\frac{\partial L}{\partial S} = P \odot \Bigl(\frac{\partial L}{\partial P}
  - \mathrm{rowsum}\bigl(\tfrac{\partial L}{\partial P} \odot P\bigr)\Bigr), \qquad
\frac{\partial L}{\partial Q} = \frac{\partial L}{\partial S}\,\frac{K}{\sqrt d}, \qquad
\frac{\partial L}{\partial K} = \Bigl(\frac{\partial L}{\partial S}\Bigr)^{\!\top} \frac{Q}{\sqrt d}.
$$
"""

import math
from numbers import Real

import numpy as np

from . import init
from ._checks import as_float_array, as_rng, check_count, check_same_dtype, check_shape, float_dtype
from .dropout import dropout_mask as _draw_mask
from .functional import softmax
from .linear import Linear
from .module import Module, Parameter


def _t(x):
    """Swap the last two axes: $K^\\top$ for a stack of matrices."""
    return np.swapaxes(x, -1, -2)


def _sum_to(g, shape):
    """Sum `g` over the axes broadcasting added or stretched, back to `shape` (a broadcast's adjoint)."""
    extra = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(extra))) if extra else g
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=stretched, keepdims=True) if stretched else g


# --- the functional form ----------------------------------------------------------------------------


def _operands(query, key, value, name):
    q = as_float_array(query, f"{name} query")
    k = as_float_array(key, f"{name} key")
    v = as_float_array(value, f"{name} value")
    for x, what, layout in ((q, "query", "(..., L, E)"), (k, "key", "(..., S, E)"), (v, "value", "(..., S, Ev)")):
        if x.ndim < 2:
            raise ValueError(f"{name} {what}: expected at least 2-D {layout}, got shape {x.shape}")
    check_same_dtype(k, q.dtype, f"{name} key")
    check_same_dtype(v, q.dtype, f"{name} value")
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"{name}: query and key must have the same last size E, got query {q.shape} and key {k.shape}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{name}: key and value must have the same number of positions S, got key {k.shape} "
                         f"and value {v.shape}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"{name}: the batch axes of query {q.shape}, key {k.shape} and value {v.shape} "
                         "do not broadcast") from None
    return q, k, v, batch


def _scale(scale, e, name):
    if scale is None:
        return 1.0 / math.sqrt(e)
    if isinstance(scale, bool) or not isinstance(scale, Real) or not math.isfinite(scale):
        raise TypeError(f"{name}: scale must be None or a finite real number, got {scale!r}")
    return float(scale)


def _additive(mask, dtype, shape, name, true_means):
    """A mask as an additive float array: a bool mask gives 0 and $-\\infty$, a float one is added as it is.

    `true_means` is "keep" for `scaled_dot_product_attention` (True = may attend) and "drop" for
    `MultiheadAttention` (True = may not), as in torch.
    """
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"{name}: expected a NumPy ndarray (bool or {np.dtype(dtype)}), got {type(mask).__name__}")
    if mask.dtype == bool:
        blocked = ~mask if true_means == "keep" else mask
        out = np.where(blocked, -np.inf, 0.0).astype(dtype)
    elif mask.dtype == dtype:
        out = as_float_array(mask, name)
    else:
        raise TypeError(f"{name}: expected dtype bool or {np.dtype(dtype)} (the query's), got {mask.dtype}")
    try:
        np.broadcast_shapes(out.shape, shape)
    except ValueError:
        raise ValueError(f"{name}: shape {mask.shape} does not broadcast to the scores' shape {shape}") from None
    return out


def _causal(n_query, n_key, dtype):
    r"""$0$ on and below the diagonal, $-\infty$ above it: query $i$ sees keys $0 \dots i$ (torch's `tril`)."""
    return np.where(np.tri(n_query, n_key, dtype=bool), 0.0, -np.inf).astype(dtype)


def _check_p(dropout_p, name):
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, Real):
        raise TypeError(f"{name}: dropout probability must be a real number, got {type(dropout_p).__name__}")
    if not 0 <= dropout_p <= 1:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {dropout_p}")


def _keep(dropout_p, dropout_mask, rng, shape, dtype, name, drawing):
    """The dropout multiplier $m/(1-p)$ on the weights, or None when nothing is dropped."""
    _check_p(dropout_p, name)
    if dropout_p == 0:
        return None
    if dropout_mask is None:
        if not drawing:
            raise ValueError(f"{name}: dropout_p > 0 needs the forward pass's dropout_mask")
        dropout_mask = _draw_mask(shape, dropout_p, rng)
    if not isinstance(dropout_mask, np.ndarray) or dropout_mask.dtype != bool:
        raise TypeError(f"{name}: dropout_mask must be a boolean ndarray (True = kept)")
    check_shape(dropout_mask, shape, f"{name} dropout_mask")
    if dropout_p == 1:
        return np.zeros(shape, dtype)
    return dropout_mask.astype(dtype) / dtype.type(1 - dropout_p)


def attention_forward(q, k, v, mask, scale, keep=None, safe=True):
    r"""The arithmetic: $P = \mathrm{softmax}(s\,QK^\top + M)$, $O = (P \odot \text{keep}) V$; returns `(O, P)`.

    No checks: the callers validate. `mask` is additive (or None), `keep` the dropout
    multiplier (or None). With `safe`, a row whose scores are all $-\infty$ (a query that may
    look nowhere) gets weights 0 and output 0, as torch's `scaled_dot_product_attention`
    gives; without, it is NaN, as `MultiheadAttention` gives when it returns its weights.
    """
    scores = (q @ _t(k)) * scale
    if mask is not None:
        scores = scores + mask
    p = softmax(scores)
    if safe:
        dead = np.all(scores == -np.inf, axis=-1, keepdims=True)
        if dead.any():
            p = np.where(dead, 0.0, p)
    return (p if keep is None else p * keep) @ v, p


def attention_backward(grad_output, q, k, v, p, scale, keep=None):
    r"""Given $G = \partial L/\partial O$, return $(\partial L/\partial Q, \partial L/\partial K, \partial L/\partial V)$.

    Shapes are the broadcast batch shape; `scaled_dot_product_attention_backward` sums them back
    to the operands' shapes.
    """
    dropped = p if keep is None else p * keep
    dv = _t(dropped) @ grad_output  # O = P V: V's gradient collects P's columns
    dp = grad_output @ _t(v)
    if keep is not None:
        dp = dp * keep  # through dropout: the same multiplier
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))  # softmax's Jacobian, row by row
    return (ds @ k) * scale, (_t(ds) @ q) * scale, dv


def _prepare(name, query, key, value, attn_mask, dropout_p, is_causal, scale, dropout_mask, rng, drawing):
    q, k, v, batch = _operands(query, key, value, name)
    n_query, n_key = q.shape[-2], k.shape[-2]
    shape = batch + (n_query, n_key)
    if is_causal and attn_mask is not None:
        raise ValueError(f"{name}: explicit attn_mask should not be set when is_causal=True (as torch refuses it)")
    if is_causal:
        mask = _causal(n_query, n_key, q.dtype)
    elif attn_mask is not None:
        mask = _additive(attn_mask, q.dtype, shape, f"{name} attn_mask", true_means="keep")
    else:
        mask = None
    keep = _keep(dropout_p, dropout_mask, rng, shape, q.dtype, name, drawing)
    return q, k, v, mask, _scale(scale, q.shape[-1], name), keep


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 *, dropout_mask=None, rng=None):
    r"""Attention, $\mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt E} + M\right) V$, like torch's `F.scaled_dot_product_attention`.

    Each of the $L$ queries scores the $S$ keys, softmax turns the scores into weights that sum
    to 1, and the output row is the weighted average of the value rows. Dividing by $\sqrt E$
    keeps the scores' spread near 1 whatever the size $E$ (a dot product of $E$ terms of
    variance 1 has variance $E$), so that softmax does not saturate.

    The mask follows torch: a **boolean** `attn_mask` is True where a query *may* attend; a
    **float** one is added to the scores (0 keeps, $-\infty$ removes, anything else biases).
    `is_causal=True` lets query $i$ see keys $0 \dots i$ only (the lower triangle, aligned at
    the top left when $L \ne S$). A query that may attend to no key at all gets output 0 (and
    gradient 0), as torch gives, not NaN.

    Args:
        query: `(..., L, E)`.
        key: `(..., S, E)`.
        value: `(..., S, Ev)`. The batch axes `...` of the three broadcast against each other.
        attn_mask: `None`, a bool or float (the query's dtype) array broadcasting to `(..., L, S)`.
        dropout_p: the probability of dropping an attention weight (the survivors scaled by
            $\frac{1}{1-p}$); torch's random stream is not reproduced, so the mask is ours.
        is_causal: apply the causal mask; an error together with `attn_mask`, as in torch.
        scale: the factor on the scores; `None` means $1/\sqrt E$.
        dropout_mask: a bool array of the scores' shape (True = kept) to use instead of a
            random one (keyword only).
        rng: a `numpy.random.Generator` or int seed the dropout mask is drawn from (keyword only).

    Returns:
        `(..., L, Ev)`, in the query's dtype.

    Raises:
        ValueError: shapes that do not match or broadcast, a mask of the wrong shape, a mask
            together with `is_causal`, `dropout_p` outside $[0, 1]$, NaN in an operand.
        TypeError: non-ndarray or non-float operands, mixed dtypes, a mask of another float dtype.

    Examples:
        >>> import numpy as np
        >>> from dismantle import functional as F
        >>> q = np.array([[1.0, 0.0]])                  # one query
        >>> k = np.array([[1.0, 0.0], [0.0, 1.0]])      # two keys
        >>> v = np.array([[10.0], [20.0]])
        >>> F.scaled_dot_product_attention(q, k, v, scale=np.log(3)).round(6)  # weights 3/4, 1/4
        array([[12.5]])
        >>> F.scaled_dot_product_attention(q, k, v, attn_mask=np.array([[False, True]]))
        array([[20.]])
    """
    name = "scaled_dot_product_attention"
    q, k, v, mask, s, keep = _prepare(name, query, key, value, attn_mask, dropout_p, is_causal, scale,
                                      dropout_mask, rng, drawing=True)
    return attention_forward(q, k, v, mask, s, keep)[0]


def scaled_dot_product_attention_backward(grad_output, query, key, value, attn_mask=None, dropout_p=0.0,
                                          is_causal=False, scale=None, *, dropout_mask=None):
    r"""The gradients of `scaled_dot_product_attention`: returns `(dL/dquery, dL/dkey, dL/dvalue)`.

    Takes the forward pass's arguments and $G = \partial L/\partial O$, and recomputes the
    weights $P$ (as fused attention kernels do in their backward, rather than storing them).
    The formulas are the module's: $\partial L/\partial V = P^\top G$, then softmax's Jacobian
    row by row, then the two products of the scores. An operand whose batch axes were
    broadcast gets the sum over them. With `dropout_p > 0`, pass the forward's `dropout_mask`.

    Examples:
        >>> import numpy as np
        >>> from dismantle import functional as F
        >>> q, k, v = np.zeros((1, 2)), np.eye(2), np.array([[10.0], [20.0]])
        >>> dq, dk, dv = F.scaled_dot_product_attention_backward(np.ones((1, 1)), q, k, v, scale=1.0)
        >>> dv                                          # each value row gets its weight, 1/2
        array([[0.5],
               [0.5]])
        >>> dq                                          # moving q toward key 2 (value 20) raises O
        array([[-2.5,  2.5]])
    """
    name = "scaled_dot_product_attention_backward"
    q, k, v, mask, s, keep = _prepare(name, query, key, value, attn_mask, dropout_p, is_causal, scale,
                                      dropout_mask, None, drawing=False)
    out, p = attention_forward(q, k, v, mask, s, keep)
    g = as_float_array(grad_output, f"{name} grad_output")
    check_shape(g, out.shape, f"{name} grad_output")
    check_same_dtype(g, q.dtype, f"{name} grad_output")
    dq, dk, dv = attention_backward(g, q, k, v, p, s, keep)
    return _sum_to(dq, q.shape), _sum_to(dk, k.shape), _sum_to(dv, v.shape)


# --- multi-head attention ---------------------------------------------------------------------------


class MultiheadAttention(Module):
    r"""Multi-head attention, like `torch.nn.MultiheadAttention`: $h$ attentions side by side, then one `Linear`.

    The inputs are projected by one matrix cut in three, `in_proj_weight` $= [W_q; W_k; W_v]$
    (and `in_proj_bias` $= [b_q; b_k; b_v]$): $Q = x_q W_q^\top + b_q$, and so on. Each of the
    $E$ columns of $Q$, $K$, $V$ is dealt to one of the $h$ heads in blocks of $d = E/h$
    (columns $0 \dots d-1$ to head 0), each head runs `scaled_dot_product_attention` on its
    $d$ columns, the heads' outputs are put side by side again in the same order, and
    `out_proj` (a `Linear(E, E)`) mixes them.

    `backward(grad_output)` returns **a tuple** `(dL/dquery, dL/dkey, dL/dvalue)`, one gradient
    per input, always. In self-attention, `mha(x, x, x)`, one array feeds all three, so its
    gradient is their sum: `sum(mha.backward(g))` (torch adds the three into `x.grad` for the
    same reason). The returned weights are an output for reading: `backward` does not take a
    gradient for them.

    Masks follow torch's `MultiheadAttention`, where a **boolean** True means *may not attend*
    (the opposite of `scaled_dot_product_attention`'s), and a float mask is added to the scores:
    `key_padding_mask` `(N, S)` hides keys per sequence (padding), `attn_mask` `(L, S)` or
    `(N·h, L, S)` hides them per query (the causal mask). `is_causal` is torch's hint that
    `attn_mask` is the causal mask, and like torch we then may use the causal mask itself
    (when no weights and no `key_padding_mask` are asked for). A query that may attend to
    nothing gives NaN with `need_weights=True` and 0 with `need_weights=False`, as torch's
    training path gives (its inference fast path gives NaN in both).

    Args:
        embed_dim: $E$, the size of every input and output vector.
        num_heads: $h$; must divide $E$.
        dropout: the probability of dropping an attention weight (training mode only).
        bias: `False` for no `in_proj_bias` and no `out_proj.bias`.
        add_bias_kv: torch's option, not supported here: only `False` is accepted (a
            clear error otherwise).
        add_zero_attn: likewise, only `False`.
        kdim: likewise, only `None` (keys of size $E$).
        vdim: likewise, only `None` (values of size $E$).
        batch_first: inputs and outputs are `(N, L, E)` if True, `(L, N, E)` if False (torch's
            default).
        rng: a `numpy.random.Generator` or int seed for the initial values and the dropout
            masks (keyword only).
        dtype: `np.float64` (default) or `np.float32` (keyword only).

    Attributes:
        in_proj_weight: `Parameter` `(3E, E)`, Xavier-uniform as in torch.
        in_proj_bias: `Parameter` `(3E,)`, zeros, or `None`.
        out_proj: `Linear(E, E)`, with its bias zeroed as in torch.

    Shape:
        - query `(N, L, E)`, key and value `(N, S, E)` (batch_first), or without the batch axis.
        - Returns `(output, weights)`: output like query; weights `(N, L, S)` averaged over the
          heads, `(N, h, L, S)` with `average_attn_weights=False`, `None` with `need_weights=False`.

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> mha = dm.MultiheadAttention(4, 2, batch_first=True, rng=0)
        >>> [name for name, _ in mha.named_parameters()]
        ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']
        >>> x = np.random.default_rng(1).normal(size=(3, 5, 4))
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape, np.allclose(weights.sum(axis=-1), 1)
        ((3, 5, 4), (3, 5, 5), True)
        >>> dx = sum(mha.backward(np.ones_like(out)))  # self-attention: x fed query, key and value
        >>> dx.shape
        (3, 5, 4)
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, *, rng=None, dtype=np.float64):
        super().__init__()
        check_count(embed_dim, "MultiheadAttention: embed_dim")
        check_count(num_heads, "MultiheadAttention: num_heads")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads, got embed_dim={embed_dim} "
                             f"and num_heads={num_heads}")
        for option, value, default in (("add_bias_kv", add_bias_kv, False), ("add_zero_attn", add_zero_attn, False),
                                       ("kdim", kdim, None), ("vdim", vdim, None)):
            if value is not default and not (option in ("kdim", "vdim") and value == embed_dim):
                raise ValueError(f"MultiheadAttention: {option}={value!r} is not supported by dismantle "
                                 f"(only {default!r}{' or embed_dim' if default is None else ''})")
        _check_p(dropout, "MultiheadAttention")
        dtype = float_dtype(dtype, "MultiheadAttention")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.dropout, self.batch_first = dropout, bool(batch_first)
        self.rng = as_rng(rng, "MultiheadAttention")
        self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dtype))
        self.register_parameter("in_proj_bias", Parameter(np.zeros(3 * embed_dim, dtype=dtype)) if bias else None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, rng=self.rng, dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self, rng=None):
        """Xavier-uniform `in_proj_weight`, zero biases, `out_proj.weight` as a `Linear`'s (torch's scheme)."""
        rng = self.rng if rng is None else as_rng(rng, "MultiheadAttention")
        self.out_proj.reset_parameters(rng)
        init.xavier_uniform_(self.in_proj_weight.data, rng=rng)
        for b in (self.in_proj_bias, self.out_proj.bias):
            if b is not None:
                b.data[...] = 0

    # --- forward --------------------------------------------------------------------------------

    def _inputs(self, query, key, value):
        """The three inputs as batch-first 3-D arrays, and whether the call was batched."""
        name, e = "MultiheadAttention", self.embed_dim
        xs = [as_float_array(x, f"{name} {what}") for x, what in ((query, "query"), (key, "key"), (value, "value"))]
        batched = xs[0].ndim == 3
        layout = ("(N, L, E)" if self.batch_first else "(L, N, E)") if batched else "(L, E)"
        for x, what in zip(xs, ("query", "key", "value")):
            if x.ndim not in (2, 3) or x.ndim != xs[0].ndim:
                raise ValueError(f"{name} {what}: expected a {xs[0].ndim if xs[0].ndim in (2, 3) else 3}-D array "
                                 f"like query, {layout} with E={e}, got shape {x.shape}")
            if x.shape[-1] != e:
                raise ValueError(f"{name} {what}: expected last size embed_dim={e}, got shape {x.shape}")
            check_same_dtype(x, self.in_proj_weight.data.dtype, f"{name} {what}")
        if not batched:
            xs = [x[None] for x in xs]
        elif not self.batch_first:
            xs = [np.swapaxes(x, 0, 1) for x in xs]
        q, k, v = xs
        if k.shape != v.shape:
            raise ValueError(f"{name}: key and value must have the same shape, got {key.shape} and {value.shape}")
        if q.shape[0] != k.shape[0]:
            raise ValueError(f"{name}: query and key must have the same batch size, got {query.shape} and {key.shape}")
        return q, k, v, batched

    def _mask(self, key_padding_mask, attn_mask, is_causal, need_weights, n, n_query, n_key, dtype, batched):
        """The additive mask `(N, h, L, S)`-broadcastable (or None), with torch's rules."""
        name, h = "MultiheadAttention", self.num_heads
        if is_causal and attn_mask is None:
            raise ValueError(f"{name}: need attn_mask if specifying the is_causal hint (as torch); build it with "
                             "np.triu(np.full((L, L), -np.inf), 1) or a boolean np.triu(np.ones((L, L), bool), 1)")
        mask = None
        if attn_mask is not None:
            wanted = [(n_query, n_key), (n * h, n_query, n_key)] if batched else [(n_query, n_key), (h, n_query, n_key)]
            if not isinstance(attn_mask, np.ndarray) or attn_mask.shape not in wanted:
                got = attn_mask.shape if isinstance(attn_mask, np.ndarray) else type(attn_mask).__name__
                raise ValueError(f"{name} attn_mask: expected shape {' or '.join(map(str, wanted))}, got {got}")
            if is_causal and key_padding_mask is None and not need_weights:
                mask = _causal(n_query, n_key, dtype)  # torch trusts the hint: the mask's content is not read
            else:
                mask = _additive(attn_mask, dtype, attn_mask.shape, f"{name} attn_mask", true_means="drop")
            mask = mask.reshape(n, h, n_query, n_key) if mask.ndim == 3 else mask
        if key_padding_mask is not None:
            wanted = (n, n_key) if batched else (n_key,)
            if not isinstance(key_padding_mask, np.ndarray) or key_padding_mask.shape != wanted:
                got = key_padding_mask.shape if isinstance(key_padding_mask, np.ndarray) else \
                    type(key_padding_mask).__name__
                raise ValueError(f"{name} key_padding_mask: expected shape {wanted} (True = ignore that key), got {got}")
            pad = _additive(key_padding_mask, dtype, wanted, f"{name} key_padding_mask", true_means="drop")
            pad = pad.reshape(n, 1, 1, n_key)
            mask = pad if mask is None else mask + pad
        return mask

    def _split(self, x):
        """`(N, L, E)` -> `(N, h, L, d)`: column block $j$ of every row goes to head $j$."""
        n, length, _ = x.shape
        return x.reshape(n, length, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    def _merge(self, x):
        """`(N, h, L, d)` -> `(N, L, E)`: the heads side by side again, head 0's columns first."""
        n, _, length, _ = x.shape
        return x.transpose(0, 2, 1, 3).reshape(n, length, self.embed_dim)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """Return `(output, weights)`; save what `backward` needs."""
        q_in, k_in, v_in, batched = self._inputs(query, key, value)
        (n, n_query, e), n_key = q_in.shape, k_in.shape[1]
        dtype = q_in.dtype
        mask = self._mask(key_padding_mask, attn_mask, is_causal, need_weights, n, n_query, n_key, dtype, batched)
        shape = (n, self.num_heads, n_query, n_key)
        p_drop = self.dropout if self.training else 0.0
        keep = _keep(p_drop, None, self.rng, shape, dtype, "MultiheadAttention", drawing=True)
        w, b = self.in_proj_weight.data, self.in_proj_bias
        projected = []
        for j, x in enumerate((q_in, k_in, v_in)):
            y = x @ w[j * e:(j + 1) * e].T
            if b is not None:
                y += b.data[j * e:(j + 1) * e]
            projected.append(self._split(y))
        qh, kh, vh = projected
        scale = 1.0 / math.sqrt(self.head_dim)
        heads, p = attention_forward(qh, kh, vh, mask, scale, keep, safe=not need_weights)
        merged = self._merge(heads)
        out = merged @ self.out_proj.weight.data.T  # out_proj by hand: a query that sees nothing is NaN here
        if self.out_proj.bias is not None:
            out += self.out_proj.bias.data
        self.save_for_backward(q_in, k_in, v_in, qh, kh, vh, p, keep, merged, batched)
        weights = None
        if need_weights:
            weights = p if keep is None else p * keep  # torch returns the weights after dropout
            weights = weights.mean(axis=1) if average_attn_weights else weights
            weights = weights if batched else weights[0]
        return self._out_layout(out, batched), weights

    def _out_layout(self, x, batched):
        if not batched:
            return x[0]
        return x if self.batch_first else np.swapaxes(x, 0, 1)

    # --- backward -------------------------------------------------------------------------------

    def backward(self, grad_output, *, input_grad=True):
        r"""Gradients of every parameter (added into `.grad`); returns `(dL/dquery, dL/dkey, dL/dvalue)`.

        The steps of `forward` in reverse: `out_proj`'s backward, the heads split again, the
        attention backward per head (softmax's Jacobian), the heads merged, and the three
        input projections: $\partial L/\partial W_q = (\partial L/\partial Q)^\top x_q$,
        $\partial L/\partial x_q = (\partial L/\partial Q)\, W_q$, and so for $k$ and $v$.
        With `input_grad=False` the three input gradients are skipped and `None` returned.
        """
        q_in, k_in, v_in, qh, kh, vh, p, keep, merged, batched = self.saved(peek=True)
        n, n_query, e = q_in.shape
        name = "MultiheadAttention.backward grad_output"
        g = as_float_array(grad_output, name)
        check_shape(g, ((n, n_query, e) if self.batch_first else (n_query, n, e)) if batched else (n_query, e), name)
        check_same_dtype(g, q_in.dtype, name)
        self.saved()
        g = g[None] if not batched else (g if self.batch_first else np.swapaxes(g, 0, 1))
        wo, bo = self.out_proj.weight, self.out_proj.bias
        wo.accumulate_grad(g.reshape(-1, e).T @ merged.reshape(-1, e), copy=False)
        if bo is not None:
            bo.accumulate_grad(g.sum(axis=(0, 1)), copy=False)
        d_heads = self._split(g @ wo.data)
        grads = attention_backward(d_heads, qh, kh, vh, p, 1.0 / math.sqrt(self.head_dim), keep)
        w, b = self.in_proj_weight, self.in_proj_bias
        dw, db, dx = np.zeros_like(w.data), None if b is None else np.zeros_like(b.data), []
        for j, (x, d) in enumerate(zip((q_in, k_in, v_in), grads)):
            d = self._merge(d)  # (N, L, E): dL/dQ (or K, V) before the split
            rows = slice(j * e, (j + 1) * e)
            dw[rows] = d.reshape(-1, e).T @ x.reshape(-1, e)
            if db is not None:
                db[rows] = d.sum(axis=(0, 1))
            if input_grad:
                dx.append(self._out_layout(d @ w.data[rows], batched))
        w.accumulate_grad(dw, copy=False)
        if b is not None:
            b.accumulate_grad(db, copy=False)
        return tuple(dx) if input_grad else None

    def __repr__(self):
        return (f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
                f"batch_first={self.batch_first})")
