r"""The transformer block: `TransformerEncoderLayer`, self-attention and an MLP, each with LayerNorm and a residual."""

import numpy as np

from ._checks import as_float_array, as_rng, check_count, check_shape, float_dtype
from .activations import ReLU
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm


class TransformerEncoderLayer(Module):
    r"""One encoder block, like `torch.nn.TransformerEncoderLayer`: attention, then an MLP, each added back.

    With `norm_first=True` (pre-norm, the layout of GPT-2 and most models since), each half
    normalizes its input, transforms it, and adds the result to what came in (a residual):

    $$
    h = x + \mathrm{SelfAttn}\bigl(\mathrm{LN}_1(x)\bigr), \qquad
    y = h + W_2\,\mathrm{ReLU}\bigl(W_1\,\mathrm{LN}_2(h) + b_1\bigr) + b_2 .
    $$

    With `norm_first=False` (torch's default, the original 2017 layout) the normalization comes
    after each addition instead: $h = \mathrm{LN}_1(x + \mathrm{SelfAttn}(x))$,
    $y = \mathrm{LN}_2(h + \mathrm{MLP}(h))$. Every sum has a gradient that splits in two: the
    residual path passes $\partial L/\partial y$ through unchanged, and the branch adds its own
    backward. The attention sees $x$ as query, key and value, so its input gradient is the sum
    of the three (see `MultiheadAttention.backward`).

    The children carry torch's names (`self_attn`, `linear1`, `dropout`, `linear2`, `norm1`,
    `norm2`, `dropout1`, `dropout2`), so torch's `state_dict` loads into this layer and back.

    Args:
        d_model: $E$, the size of every token's vector.
        nhead: the number of attention heads; must divide `d_model`.
        dim_feedforward: the width of the MLP's hidden layer (torch's default 2048).
        dropout: the dropout probability of the attention weights, the MLP's hidden layer and
            both branches (torch's default 0.1; training mode only, with our own random masks).
        activation: `"relu"`, or a `dismantle` activation layer such as `dm.Tanh()`.
        layer_norm_eps: the $\epsilon$ of both LayerNorms.
        batch_first: `(N, L, E)` if True, `(L, N, E)` if False (torch's default).
        norm_first: pre-norm if True, post-norm if False (torch's default).
        bias: `False` for no bias in the linear layers, the attention and the LayerNorms.
        rng: a `numpy.random.Generator` or int seed for the initial values and dropout masks
            (keyword only).
        dtype: `np.float64` (default) or `np.float32` (keyword only).

    Shape:
        - src: `(N, L, E)` with `batch_first`, `(L, N, E)` without, or unbatched `(L, E)`.
        - src_mask: `(L, L)` or `(N·nhead, L, L)`, bool (True = may not attend) or float
          (added); `src_key_padding_mask`: `(N, L)`, True = a padding token.
        - Output: the shape of `src`.

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> block = dm.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
        ...                                    batch_first=True, norm_first=True, rng=0)
        >>> [name for name in block.state_dict()][:4]
        ['self_attn.in_proj_weight', 'self_attn.in_proj_bias', 'self_attn.out_proj.weight', 'self_attn.out_proj.bias']
        >>> x = np.random.default_rng(1).normal(size=(2, 5, 8))
        >>> y = block(x, src_mask=np.triu(np.ones((5, 5), bool), 1), is_causal=True)
        >>> y.shape, block.backward(np.ones_like(y)).shape
        ((2, 5, 8), (2, 5, 8))
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, *, rng=None, dtype=np.float64):
        super().__init__()
        name = "TransformerEncoderLayer"
        check_count(dim_feedforward, f"{name}: dim_feedforward")
        dtype = float_dtype(dtype, name)
        rng = as_rng(rng, name)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            rng=rng, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, rng=rng, dtype=dtype)
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, rng=rng, dtype=dtype)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, rng=rng)
        self.dropout2 = Dropout(dropout, rng=rng)
        if isinstance(activation, str) and activation == "relu":
            activation = ReLU()
        elif not isinstance(activation, Module):
            raise ValueError(f"{name}: activation must be \"relu\" or a dismantle activation layer (dm.Tanh(), ...), "
                             f"got {activation!r}")
        self.activation = activation
        self.d_model, self.batch_first = d_model, bool(batch_first)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """Return the block's output, shaped like `src`, and save what `backward` needs."""
        x = as_float_array(src, "TransformerEncoderLayer src")
        if x.ndim not in (2, 3) or x.shape[-1] != self.d_model:
            layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
            raise ValueError(f"TransformerEncoderLayer src: expected {layout} or unbatched (L, E) with "
                             f"E=d_model={self.d_model}, got shape {x.shape}")
        masks = dict(attn_mask=src_mask, key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        if self.norm_first:
            h = x + self._sa_block(self.norm1(x), masks)
            y = h + self._ff_block(self.norm2(h))
        else:
            h = self.norm1(x + self._sa_block(x, masks))
            y = self.norm2(h + self._ff_block(h))
        self.save_for_backward(y.shape)
        return y

    def _sa_block(self, x, masks):
        return self.dropout1(self.self_attn(x, x, x, need_weights=False, **masks)[0])

    def _ff_block(self, x):
        hidden = self.dropout(self.activation(self.linear1(x.reshape(-1, self.d_model))))
        return self.dropout2(self.linear2(hidden).reshape(x.shape))

    def _sa_backward(self, g, input_grad=True):
        grads = self.self_attn.backward(self.dropout1.backward(g), input_grad=input_grad)
        return None if grads is None else grads[0] + grads[1] + grads[2]  # x was query, key and value

    def _ff_backward(self, g):
        g = self.dropout2.backward(g)
        d = self.linear2.backward(g.reshape(-1, self.d_model))
        d = self.linear1.backward(self.activation.backward(self.dropout.backward(d)))
        return d.reshape(g.shape)

    def backward(self, grad_output, *, input_grad=True):
        r"""Add every parameter's gradient into its `.grad`; return $\partial L/\partial\,\text{src}$.

        The forward's steps in reverse. At each residual sum the gradient goes both ways: it
        reaches the input unchanged and through the branch's backward, and the two add up.
        """
        (shape,) = self.saved(peek=True)
        g = as_float_array(grad_output, "TransformerEncoderLayer.backward grad_output")
        check_shape(g, shape, "TransformerEncoderLayer.backward grad_output")
        self.saved()
        if self.norm_first:
            dh = g + self.norm2.backward(self._ff_backward(g))
            d_branch = self.norm1.backward(self._sa_backward(dh), input_grad=input_grad)
            return dh + d_branch if input_grad else None
        dh = self.norm2.backward(g)
        dh = dh + self._ff_backward(dh)
        d_sum = self.norm1.backward(dh)
        return d_sum + self._sa_backward(d_sum) if input_grad else self._sa_backward(d_sum, input_grad=False)

    def __repr__(self):
        return (f"TransformerEncoderLayer(d_model={self.d_model}, nhead={self.self_attn.num_heads}, "
                f"dim_feedforward={self.linear1.out_features}, norm_first={self.norm_first})")
