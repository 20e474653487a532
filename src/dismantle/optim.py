r"""Optimizers, step for step the same as torch's: `SGD`, `Adam` and `AdamW`."""

from numbers import Real

import numpy as np

from .module import Parameter


class _Optimizer:
    """What every optimizer here shares: its `params` list and `zero_grad`."""

    def zero_grad(self):
        """Reset the gradient of every parameter to zero, in place."""
        for p in self.params:
            p.grad.fill(0)


class SGD(_Optimizer):
    r"""Gradient descent $\theta \leftarrow \theta - \eta\,g$, with torch's momentum, Nesterov and weight decay.

    For every parameter $\theta$ with gradient $\nabla_\theta L$, one `step()` computes, in
    this order (exactly `torch.optim.SGD`'s algorithm):

    $$
    \begin{aligned}
    g &\leftarrow \pm\nabla_\theta L && - \text{ only if } \textit{maximize}\\
    g &\leftarrow g + \lambda\,\theta
        && \text{weight decay } \lambda \text{ (only if } \lambda \ne 0)\\
    b &\leftarrow \begin{cases} g & \text{first step} \\ \mu\,b + (1-\tau)\,g & \text{later steps}\end{cases}
        && \text{momentum } \mu,\ \text{dampening } \tau \text{ (only if } \mu \ne 0)\\
    g &\leftarrow \begin{cases} g + \mu\,b & \text{Nesterov} \\ b & \text{otherwise}\end{cases}\\
    \theta &\leftarrow \theta - \eta\,g && \text{learning rate } \eta
    \end{aligned}
    $$

    The update happens in place (`p.data -= ...`), so a layer's `Parameter` objects stay
    the same objects. `grad` is read, never changed: call `zero_grad()` between steps. Every
    intermediate stays an ndarray of the parameter's shape, 0-d included (NumPy turns 0-d
    arithmetic into scalars, which an in-place buffer update would silently lose).

    Args:
        params: an iterable of `Parameter` (for example `model.parameters()`).
        lr: the learning rate $\eta \ge 0$.
        momentum: $\mu \ge 0$; `0` switches momentum off.
        dampening: $\tau$, the share of each new gradient left out of the momentum buffer.
        weight_decay: $\lambda \ge 0$, an L2 penalty $\tfrac{\lambda}{2}\lVert\theta\rVert^2$ folded into $g$.
        nesterov: look ahead along the momentum; needs $\mu > 0$ and $\tau = 0$.
        maximize: climb the objective instead of descending it.

    Attributes:
        params: the list of parameters being optimised.
        momentum_buffer: one buffer $b$ per parameter, `None` until the first step.

    Raises:
        ValueError: as torch does, for a negative `lr`, `momentum` or `weight_decay`,
            Nesterov without momentum or with dampening, or an empty parameter list.
        TypeError: when a setting is not a real number or a parameter is not a `Parameter`.

    Examples:
        >>> import numpy as np
        >>> from dismantle import Parameter, SGD
        >>> p = Parameter(np.array([1.0, -2.0]))
        >>> opt = SGD([p], lr=0.1)
        >>> p.grad[:] = [0.5, -1.0]
        >>> opt.step()
        >>> p.data
        array([ 0.95, -1.9 ])
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 *, maximize=False):
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
        self.weight_decay, self.nesterov, self.maximize = weight_decay, bool(nesterov), bool(maximize)
        self.momentum_buffer = [None] * len(self.params)

    def step(self):
        r"""Update every parameter once, in place, from its current `grad`."""
        for i, p in enumerate(self.params):
            g = -p.grad if self.maximize else p.grad
            if self.weight_decay != 0:
                g = g + self.weight_decay * p.data  # a new array: p.grad stays untouched
            if self.momentum != 0:
                g = self._momentum(i, g)
            p.data -= self.lr * g

    def _momentum(self, i, g):
        """Update buffer `i` with gradient `g`; return the direction to step along."""
        buf = self.momentum_buffer[i]
        if buf is None:  # np.array, not g.copy(): a 0-d g may be a NumPy scalar, and buf must be an array
            buf = self.momentum_buffer[i] = np.array(g, dtype=self.params[i].data.dtype)
        else:
            buf *= self.momentum
            buf += g if self.dampening == 0 else (1 - self.dampening) * g
        return g + self.momentum * buf if self.nesterov else buf

    def __repr__(self):
        return (f"SGD(lr={self.lr}, momentum={self.momentum}, dampening={self.dampening}, "
                f"weight_decay={self.weight_decay}, nesterov={self.nesterov}, maximize={self.maximize})")


def _parameter_list(params, owner="SGD"):
    """Turn `params` into a non-empty list of distinct `Parameter` objects, or raise."""
    if isinstance(params, (Parameter, np.ndarray)):
        raise TypeError(f"{owner}: params must be an iterable of Parameter, got a single {type(params).__name__}")
    params = list(params)
    if not params:
        raise ValueError("optimizer got an empty parameter list")
    for p in params:
        if not isinstance(p, Parameter):
            raise TypeError(f"{owner}: can only optimize Parameter objects, got {type(p).__name__}")
    if len({id(p) for p in params}) != len(params):
        raise ValueError(f"{owner}: a Parameter appears more than once in params; it would be stepped twice")
    return params


class Adam(_Optimizer):
    r"""Adam: $\theta \leftarrow \theta - \eta\,\hat m / (\sqrt{\hat v} + \epsilon)$, step for step `torch.optim.Adam`.

    Each parameter keeps two running averages, of its gradients ($m$, the first moment) and of
    their squares ($v$, the second moment). Both start at zero, which biases them toward zero
    for the first steps; dividing by $1-\beta^t$ removes that bias exactly. At step $t$, for
    every parameter $\theta$ with gradient $\nabla_\theta L$, `step()` computes, in this order
    (torch's single-tensor algorithm):

    $$
    \begin{aligned}
    g &\leftarrow \pm\nabla_\theta L && - \text{ only if } \textit{maximize}\\
    g &\leftarrow g + \lambda\,\theta && \text{L2 weight decay (Adam, only if } \lambda \ne 0)\\
    \theta &\leftarrow (1 - \eta\lambda)\,\theta && \text{decoupled weight decay (AdamW instead)}\\
    m &\leftarrow \beta_1 m + (1-\beta_1)\,g && \text{first moment, } m_0 = 0\\
    v &\leftarrow \beta_2 v + (1-\beta_2)\,g^2 && \text{second moment, } v_0 = 0\\
    v_{\max} &\leftarrow \max(v_{\max}, v) && \text{only if } \textit{amsgrad}\text{; then } v_{\max} \text{ replaces } v \text{ below}\\
    \theta &\leftarrow \theta - \frac{\eta}{1-\beta_1^t}\cdot
        \frac{m}{\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon}
        && \text{that is } \theta - \eta\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}
    \end{aligned}
    $$

    with $\hat m = m/(1-\beta_1^t)$ and $\hat v = v/(1-\beta_2^t)$. Like torch, $\epsilon$ is
    added *after* the square root of the corrected $\hat v$: it keeps the step finite where
    a coordinate's gradients have all been (nearly) zero. The update is in place, so the
    `Parameter` objects stay the same objects; `grad` is read, never changed.

    Args:
        params: an iterable of `Parameter` (for example `model.parameters()`).
        lr: the learning rate $\eta \ge 0$.
        betas: $(\beta_1, \beta_2)$, each in $[0, 1)$: how slowly $m$ and $v$ forget.
        eps: $\epsilon \ge 0$, added to the denominator.
        weight_decay: $\lambda \ge 0$; an L2 penalty folded into $g$ (`Adam`) or a decoupled
            shrink of $\theta$ (`AdamW`).
        amsgrad: divide by the largest $v$ seen so far instead of the current one.
        maximize: climb the objective instead of descending it.

    Attributes:
        params: the list of parameters being optimised.
        exp_avg: one first moment $m$ per parameter, zeros before the first step.
        exp_avg_sq: one second moment $v$ per parameter, zeros before the first step.
        max_exp_avg_sq: one $v_{\max}$ per parameter with `amsgrad`, else `None`.
        steps: $t$, the number of steps taken.

    Raises:
        ValueError: with torch's messages, for a negative `lr`, `eps` or `weight_decay`, a
            beta outside $[0, 1)$, or an empty parameter list.
        TypeError: when a setting is not a real number or a parameter is not a `Parameter`.

    Examples:
        >>> import numpy as np
        >>> from dismantle import Adam, Parameter
        >>> p = Parameter(np.array([1.0, -2.0]))
        >>> opt = Adam([p], lr=0.1)
        >>> p.grad[:] = [0.5, -1e-3]
        >>> opt.step()  # the first step moves every coordinate by about lr, whatever its gradient
        >>> np.round(p.data, 4)
        array([ 0.9, -1.9])
    """

    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 *, maximize=False):
        owner = type(self).__name__
        self.params = _parameter_list(params, owner)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{owner}: betas must be a pair (beta1, beta2), got {betas!r}")
        settings = (("lr", lr), ("betas[0]", betas[0]), ("betas[1]", betas[1]), ("eps", eps),
                    ("weight_decay", weight_decay))
        for name, value in settings:
            if not isinstance(value, Real) or isinstance(value, bool):
                raise TypeError(f"{owner}: {name} must be a real number, got {type(value).__name__}")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        self.lr, self.betas, self.eps, self.weight_decay = lr, tuple(betas), eps, weight_decay
        self.amsgrad, self.maximize = bool(amsgrad), bool(maximize)
        self.exp_avg = [np.zeros_like(p.data) for p in self.params]
        self.exp_avg_sq = [np.zeros_like(p.data) for p in self.params]
        self.max_exp_avg_sq = [np.zeros_like(p.data) for p in self.params] if self.amsgrad else None
        self.steps = 0

    def step(self):
        r"""Update every parameter once, in place, from its current `grad`."""
        self.steps += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1 - beta1**self.steps)
        bias_correction2_sqrt = (1 - beta2**self.steps) ** 0.5
        for i, p in enumerate(self.params):
            g = -p.grad if self.maximize else p.grad
            if self.weight_decay != 0:
                if self.decoupled:
                    p.data *= 1 - self.lr * self.weight_decay
                else:
                    g = g + self.weight_decay * p.data  # a new array: p.grad stays untouched
            m, v = self.exp_avg[i], self.exp_avg_sq[i]
            m *= beta1
            m += (1 - beta1) * g  # torch writes this as lerp_: the same value up to rounding
            v *= beta2
            v += (1 - beta2) * g * g
            if self.amsgrad:
                v = np.maximum(self.max_exp_avg_sq[i], v, out=self.max_exp_avg_sq[i])
            denom = np.sqrt(v) / bias_correction2_sqrt + self.eps
            p.data += -step_size * m / denom

    def __repr__(self):
        return (f"{type(self).__name__}(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
                f"weight_decay={self.weight_decay}, amsgrad={self.amsgrad}, maximize={self.maximize})")


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay $\theta \leftarrow (1-\eta\lambda)\,\theta$, step for step `torch.optim.AdamW`.

    The algorithm is `Adam`'s, except for one line. Adam folds the L2 penalty into the gradient
    ($g \leftarrow g + \lambda\theta$), where it is then divided by $\sqrt{\hat v}$ like the rest of
    $g$, so parameters with large gradients are barely decayed. AdamW shrinks every parameter
    by the same factor before the moments are updated, and leaves $g$ alone:

    $$
    \theta \leftarrow (1 - \eta\lambda)\,\theta, \qquad
    \theta \leftarrow \theta - \eta\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}.
    $$

    Its default `weight_decay` is `1e-2`, torch's default; every other argument, attribute and
    error is `Adam`'s.

    Examples:
        >>> import numpy as np
        >>> from dismantle import AdamW, Parameter
        >>> p = Parameter(np.array([1.0, -2.0]))
        >>> opt = AdamW([p], lr=0.1, weight_decay=0.5)
        >>> opt.step()  # a zero gradient: only the decay acts, theta *= 1 - 0.1 * 0.5
        >>> p.data
        array([ 0.95, -1.9 ])
    """

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)

