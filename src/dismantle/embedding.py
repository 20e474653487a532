r"""A lookup table of learned vectors: `Embedding`, row $i$ of `weight` for token $i$."""

import numpy as np

from . import init
from ._checks import as_float_array, as_rng, check_count, check_same_dtype, check_shape, float_dtype
from .module import Module, Parameter


class Embedding(Module):
    r"""Look up one learned row per index: $y_{\dots} = W_{x_{\dots}, :}$, like `torch.nn.Embedding`.

    A lookup is a product with a one-hot row, $W_{i,:} = \mathrm{onehot}(i)\,W$, so it is a
    `Linear` layer without bias whose input is one-hot, computed without building the one-hot
    matrix. Its derivative follows: for an upstream gradient $G = \partial L/\partial y$, row
    $i$ of $\partial L/\partial W$ is the sum of the rows of $G$ at every position that looked
    up $i$ (a scatter-add),

    $$
    \frac{\partial L}{\partial W_{i,:}} = \sum_{p\,:\,x_p = i} G_{p,:},
    $$

    and a row that no index used gets zero. The row `padding_idx` starts at zeros and never
    receives a gradient (torch skips it too), so it stays what it is during training. The
    indices are integers: they have no gradient, and `backward` returns `None`.

    Args:
        num_embeddings: the size of the table (the vocabulary), indices $0 \dots$ `num_embeddings - 1`.
        embedding_dim: the length of each vector.
        padding_idx: `None`, or the index whose row is zeros and gets no gradient; a negative
            one counts from the end (`-1` is the last row), and is stored as its positive
            equivalent, as in torch.
        rng: a `numpy.random.Generator` or an int seed for the initial values (keyword only).
        dtype: `np.float64` (default) or `np.float32` (keyword only).

    Attributes:
        weight: `Parameter` of shape `(num_embeddings, embedding_dim)`, drawn from
            $\mathcal{N}(0, 1)$ as in torch, with the row `padding_idx` zeroed.

    Shape:
        - Input: an integer array of any shape, every entry in $[0, \text{num\_embeddings})$.
        - Output: the input's shape followed by `(embedding_dim,)`.

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> emb = dm.Embedding(4, 2, padding_idx=0, rng=0)
        >>> emb(np.array([[0, 3, 3]])).shape
        (1, 3, 2)
        >>> emb.backward(np.ones((1, 3, 2))) is None
        True
        >>> emb.weight.grad
        array([[0., 0.],
               [0., 0.],
               [0., 0.],
               [2., 2.]])
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, *, rng=None, dtype=np.float64):
        super().__init__()
        check_count(num_embeddings, "Embedding: num_embeddings")
        check_count(embedding_dim, "Embedding: embedding_dim")
        dtype = float_dtype(dtype, "Embedding")
        if padding_idx is not None:
            if not isinstance(padding_idx, (int, np.integer)) or isinstance(padding_idx, bool):
                raise TypeError(f"Embedding: padding_idx must be None or an int, got {type(padding_idx).__name__}")
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings ({num_embeddings}), "
                                 f"got {padding_idx}")
            padding_idx = int(padding_idx) % num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype))
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None):
        r"""Draw `weight` again from $\mathcal{N}(0, 1)$, in place, and zero the row `padding_idx`."""
        init.normal_(self.weight.data, rng=as_rng(rng, "Embedding"))
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input):
        """Return the rows of `weight` at `input` (a new array) and save the indices."""
        idx = self._indices(input)
        self.save_for_backward(idx.copy())
        return self.weight.data[idx]

    def backward(self, grad_output, *, input_grad=True):
        """Scatter-add $G$ into `weight.grad` by index (not into the `padding_idx` row); return `None`."""
        (idx,) = self.saved(peek=True)
        g = as_float_array(grad_output, "Embedding.backward grad_output")
        check_shape(g, idx.shape + (self.embedding_dim,), "Embedding.backward grad_output")
        check_same_dtype(g, self.weight.data.dtype, "Embedding.backward grad_output")
        self.saved()
        grad = np.zeros_like(self.weight.data)
        np.add.at(grad, idx.ravel(), g.reshape(-1, self.embedding_dim))  # += per occurrence: repeats add up
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        self.weight.accumulate_grad(grad, copy=False)
        return None  # indices are integers: nothing to differentiate

    def _indices(self, input):
        if not isinstance(input, np.ndarray):
            raise TypeError(f"Embedding input: expected a NumPy ndarray of integer indices, got {type(input).__name__}")
        if not np.issubdtype(input.dtype, np.integer):
            raise TypeError(f"Embedding input: expected integer indices (an int dtype), got dtype {input.dtype}")
        bad = (input < 0) | (input >= self.num_embeddings)
        if bad.any():
            i = tuple(int(k) for k in np.argwhere(bad)[0])
            raise ValueError(f"Embedding input: expected indices in [0, {self.num_embeddings - 1}] for "
                             f"num_embeddings={self.num_embeddings}, got {input[i]} at index {i}")
        return input

    def __repr__(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"Embedding({self.num_embeddings}, {self.embedding_dim}{pad})"
