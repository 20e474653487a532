r"""Stochastic gradient descent, step for step the same as `torch.optim.SGD`."""

from numbers import Real

import numpy as np

from .module import Parameter


class SGD:
    r"""Gradient descent $\theta \leftarrow \theta - \eta\,g$, with torch's momentum, Nesterov and weight decay.

    For every parameter $\theta$ with gradient $\nabla_\theta L$, one `step()` computes, in
    this order (exactly `torch.optim.SGD`'s algorithm):

    $$
    \begin{aligned}
    g &\leftarrow \nabla_\theta L + \lambda\,\theta
        && \text{weight decay } \lambda \text{ (only if } \lambda \ne 0)\\
    b &\leftarrow \begin{cases} g & \text{first step} \\ \mu\,b + (1-\tau)\,g & \text{later steps}\end{cases}
        && \text{momentum } \mu,\ \text{dampening } \tau \text{ (only if } \mu \ne 0)\\
    g &\leftarrow \begin{cases} g + \mu\,b & \text{Nesterov} \\ b & \text{otherwise}\end{cases}\\
    \theta &\leftarrow \theta - \eta\,g && \text{learning rate } \eta
    \end{aligned}
    $$

    The update happens in place (`p.data -= ...`), so a layer's `Parameter` objects stay
    the same objects. `grad` is read, never changed: call `zero_grad()` between steps.

    Args:
        params: an iterable of `Parameter` (for example `model.parameters()`).
        lr: the learning rate $\eta \ge 0$.
        momentum: $\mu \ge 0$; `0` switches momentum off.
        dampening: $\tau$, the share of each new gradient left out of the momentum buffer.
        weight_decay: $\lambda \ge 0$, an L2 penalty $\tfrac{\lambda}{2}\lVert\theta\rVert^2$ folded into $g$.
        nesterov: look ahead along the momentum; needs $\mu > 0$ and $\tau = 0$.

    Attributes:
        params: the list of parameters being optimised.
        momentum_buffer: one buffer $b$ per parameter, `None` until the first step.

    Raises:
        ValueError: as torch does, for a negative `lr`, `momentum` or `weight_decay`,
            Nesterov without momentum or with dampening, or an empty parameter list.
        TypeError: when a setting is not a real number or a parameter is not a `Parameter`.

    Examples:
        >>> p = Parameter(np.array([1.0, -2.0]))
        >>> opt = SGD([p], lr=0.1)
        >>> p.grad[:] = [0.5, -1.0]
        >>> opt.step()
        >>> p.data
        array([ 0.95, -1.9 ])
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        self.params = _parameter_list(params)
        for name, value in (("lr", lr), ("momentum", momentum), ("dampening", dampening),
                            ("weight_decay", weight_decay)):
            if not isinstance(value, Real) or isinstance(value, bool):
                raise TypeError(f"SGD: {name} must be a real number, got {type(value).__name__}")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, bool(nesterov)
        self.momentum_buffer = [None] * len(self.params)

    def step(self):
        r"""Update every parameter once, in place, from its current `grad`."""
        for i, p in enumerate(self.params):
            g = p.grad
            if self.weight_decay != 0:
                g = g + self.weight_decay * p.data  # a new array: p.grad stays untouched
            if self.momentum != 0:
                g = self._momentum(i, g)
            p.data -= self.lr * g

    def _momentum(self, i, g):
        """Update buffer `i` with gradient `g`; return the direction to step along."""
        buf = self.momentum_buffer[i]
        if buf is None:
            buf = self.momentum_buffer[i] = g.copy()
        else:
            buf *= self.momentum
            buf += g if self.dampening == 0 else (1 - self.dampening) * g
        return g + self.momentum * buf if self.nesterov else buf

    def zero_grad(self):
        """Reset the gradient of every parameter to zero, in place."""
        for p in self.params:
            p.grad.fill(0)

    def __repr__(self):
        return (f"SGD(lr={self.lr}, momentum={self.momentum}, dampening={self.dampening}, "
                f"weight_decay={self.weight_decay}, nesterov={self.nesterov})")


def _parameter_list(params):
    """Turn `params` into a non-empty list of distinct `Parameter` objects, or raise."""
    if isinstance(params, (Parameter, np.ndarray)):
        raise TypeError(f"SGD: params must be an iterable of Parameter, got a single {type(params).__name__}")
    params = list(params)
    if not params:
        raise ValueError("optimizer got an empty parameter list")
    for p in params:
        if not isinstance(p, Parameter):
            raise TypeError(f"SGD: can only optimize Parameter objects, got {type(p).__name__}")
    if len({id(p) for p in params}) != len(params):
        raise ValueError("SGD: a Parameter appears more than once in params; it would be stepped twice")
    return params
