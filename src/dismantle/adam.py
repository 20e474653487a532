r"""`Adam` and `AdamW`, step for step torch's single-tensor algorithm."""

import numpy as np

from .optimizer import Optimizer, check_real


class Adam(Optimizer):
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
        params: an iterable of `Parameter` (for example `model.parameters()`), or of dicts,
            one per parameter group, each with `"params"` and its own settings.
        lr: the learning rate $\eta \ge 0$.
        betas: $(\beta_1, \beta_2)$, each in $[0, 1)$: how slowly $m$ and $v$ forget.
        eps: $\epsilon \ge 0$, added to the denominator.
        weight_decay: $\lambda \ge 0$; an L2 penalty folded into $g$ (`Adam`) or a decoupled
            shrink of $\theta$ (`AdamW`).
        amsgrad: divide by the largest $v$ seen so far instead of the current one.
        maximize: climb the objective instead of descending it.

    Attributes:
        param_groups: the groups, each a dict of `"params"` and the settings above.
        state: per parameter, from its first step: `"step"` ($t$, its own count of steps),
            `"exp_avg"` ($m$), `"exp_avg_sq"` ($v$) and, with `amsgrad`, `"max_exp_avg_sq"`.

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
    _state_arrays = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _required_state = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 *, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        owner, betas = type(self).__name__, group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{owner}: betas must be a pair (beta1, beta2), got {betas!r}")
        check_real({"lr": group["lr"], "betas[0]": betas[0], "betas[1]": betas[1], "eps": group["eps"],
                    "weight_decay": group["weight_decay"]}, ("lr", "betas[0]", "betas[1]", "eps", "weight_decay"),
                   owner)
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        group["betas"] = tuple(betas)

    def _step_group(self, group, params):
        for p in params:
            state = self.state.get(p)
            if not state:  # torch's lazy start: zero moments at a parameter's first step
                state = self.state[p] = {"step": 0, "exp_avg": np.zeros_like(p.data),
                                         "exp_avg_sq": np.zeros_like(p.data)}
            if group["amsgrad"] and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
            state["step"] += 1
            adam_update(p, -p.grad if group["maximize"] else p.grad, state, group, self.decoupled)


def adam_update(p, g, state, group, decoupled):
    """One Adam step of parameter `p` along gradient `g`: the formula above, in the same order."""
    lr, (beta1, beta2), weight_decay, t = group["lr"], group["betas"], group["weight_decay"], state["step"]
    step_size = lr / (1 - beta1**t)
    bias_correction2_sqrt = (1 - beta2**t) ** 0.5
    if weight_decay != 0:
        if decoupled:
            p.data *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * p.data  # a new array: p.grad stays untouched
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m *= beta1
    m += (1 - beta1) * g  # torch writes this as lerp_: the same value up to rounding
    v *= beta2
    v += (1 - beta2) * g * g
    if group["amsgrad"]:
        v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
    denom = np.sqrt(v) / bias_correction2_sqrt + group["eps"]
    p.data += -step_size * m / denom


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
