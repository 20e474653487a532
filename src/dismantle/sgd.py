r"""`SGD`: gradient descent with torch's momentum, Nesterov and weight decay."""

import numpy as np

from .optimizer import Optimizer, check_real


class SGD(Optimizer):
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
        params: an iterable of `Parameter` (for example `model.parameters()`), or of dicts,
            one per parameter group, each with `"params"` and its own settings.
        lr: the learning rate $\eta \ge 0$ (torch's default, `1e-3`).
        momentum: $\mu \ge 0$; `0` switches momentum off.
        dampening: $\tau$, the share of each new gradient left out of the momentum buffer.
        weight_decay: $\lambda \ge 0$, an L2 penalty $\tfrac{\lambda}{2}\lVert\theta\rVert^2$ folded into $g$.
        nesterov: look ahead along the momentum; needs $\mu > 0$ and $\tau = 0$.
        maximize: climb the objective instead of descending it.

    Attributes:
        param_groups: the groups, each a dict of `"params"` and the settings above.
        state: per parameter, `{"momentum_buffer": b}` once it has taken a step with momentum.

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

    _state_arrays = ("momentum_buffer",)
    _int_state = ()

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_real(group, ("lr", "momentum", "dampening", "weight_decay"), "SGD")
        if group["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if group["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _step_group(self, group, params):
        lr, weight_decay, momentum = group["lr"], group["weight_decay"], group["momentum"]
        for p in params:
            g = -p.grad if group["maximize"] else p.grad
            if weight_decay != 0:
                g = g + weight_decay * p.data  # a new array: p.grad stays untouched
            if momentum != 0:
                g = sgd_momentum(self.state.setdefault(p, {}), g, group, p.data.dtype)
            p.data -= lr * g


def sgd_momentum(state, g, group, dtype):
    """Update `state["momentum_buffer"]` with gradient `g`; return the direction to step along."""
    buf = state.get("momentum_buffer")
    if buf is None:  # np.array, not g.copy(): a 0-d g may be a NumPy scalar, and buf must be an array
        buf = state["momentum_buffer"] = np.array(g, dtype=dtype)
    else:
        buf *= group["momentum"]
        buf += g if group["dampening"] == 0 else (1 - group["dampening"]) * g
    return g + group["momentum"] * buf if group["nesterov"] else buf
