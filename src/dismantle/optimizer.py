r"""The `Optimizer` base class, torch's: parameter groups, per-parameter state, `state_dict`.

An optimizer holds `param_groups`, a list of dicts: each has `"params"` (a list of
`Parameter`) and every hyperparameter (`"lr"` first), so groups may differ (no weight decay on
biases, a smaller `lr` for a pretrained layer); a learning-rate schedule reads and writes
`group["lr"]`. `state` maps each `Parameter` to a dict (momentum buffers, moments, step
counters), created at its first step, as in torch. `step()` checks every gradient before it
changes anything, and skips a parameter whose `grad` is `None`.
"""

from numbers import Integral, Real

import numpy as np

from .module import Parameter


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()  # a default with no value: every group must give one, as torch's `required`


class Optimizer:
    r"""Base class: `param_groups`, `state`, `zero_grad`, `state_dict` and `load_state_dict`.

    Subclasses pass their `defaults` (the hyperparameters, `"lr"` first), check a group in
    `_check_group`, list their state's array keys in `_state_arrays`, and update one group in
    `_step_group(group, params)`.

    Args:
        params: an iterable of `Parameter`, or of dicts `{"params": [...], "lr": ..., ...}`
            whose missing hyperparameters are taken from `defaults`.
        defaults: the hyperparameters' default values.

    Attributes:
        param_groups: the list of groups, each a dict of `"params"` and hyperparameters.
        defaults: the defaults given to the constructor.
        state: a dict from each `Parameter` to its state, filled at its first step.

    Examples:
        >>> import numpy as np
        >>> import dismantle as dm
        >>> layer = dm.Linear(3, 2, rng=0)
        >>> opt = dm.SGD([{"params": [layer.weight], "weight_decay": 1e-2},
        ...               {"params": [layer.bias]}], lr=0.1)  # no weight decay on the bias
        >>> [(g["lr"], g["weight_decay"]) for g in opt.param_groups]
        [(0.1, 0.01), (0.1, 0.0)]
    """

    _state_arrays = ()
    _int_state = ("step",)
    _required_state = ()

    def __init__(self, params, defaults):
        self.defaults, self.state, self.param_groups = dict(defaults), {}, []
        name = type(self).__name__
        if isinstance(params, (Parameter, np.ndarray)):
            raise TypeError(f"{name}: params must be an iterable of Parameter, got a single {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group (a dict with `"params"`); hyperparameters it lacks come from `defaults`."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group.get("params")
        if isinstance(params, Parameter):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        params = list(params)
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"{name}: can only optimize Parameter objects, got {type(p).__name__}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a Parameter appears more than once in params; it would be stepped twice")
        group = {"params": params}
        for key, default in self.defaults.items():
            if default is required and key not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {key}")
            group[key] = param_group.get(key, default)
        group.update((k, v) for k, v in param_group.items() if k not in group)
        self._check_group(group)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _check_group(self, group):
        """Raise a clear error for a hyperparameter this optimizer cannot use."""

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient: to `None` (torch's default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                else:
                    p.zero_grad()

    def step(self):
        r"""Update every parameter whose `grad` is not `None`, in place, from its current `grad`."""
        todo = [(group, self._with_grad(group)) for group in self.param_groups]
        for group, params in todo:
            self._step_group(group, params)

    def _with_grad(self, group):
        """The group's parameters whose `grad` is set, each checked against its `data` first."""
        out = []
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            if not isinstance(g, np.ndarray) or g.shape != p.data.shape or g.dtype != p.data.dtype:
                got = f"shape {g.shape}, dtype {g.dtype}" if isinstance(g, np.ndarray) else type(g).__name__
                raise ValueError(f"{type(self).__name__}.step: a parameter of shape {p.data.shape}, dtype "
                                 f"{p.data.dtype} has a grad of {got}; nothing was changed")
            out.append(p)
        return out

    def _step_group(self, group, params):
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    # --- saving and restoring ----------------------------------------------------------------------

    def state_dict(self):
        """Return `{"state": {index: {...}}, "param_groups": [...]}`, parameters numbered as torch numbers them.

        Parameters are numbered 0, 1, ... across the groups in order; each group lists its
        parameters' numbers under `"params"`. Arrays are copies: training on does not change
        a state dict already taken.
        """
        index, groups = {}, []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: {k: _copy(v) for k, v in s.items()}
                 for group in self.param_groups for p in group["params"] if (s := self.state.get(p))}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore what `state_dict()` returned; checks it all before changing anything."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected a dict with keys 'param_groups' "
                             f"and 'state', got {got}")
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, (list, tuple)) or len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(not isinstance(s, dict) or len(s.get("params", ())) != len(g["params"])
               for g, s in zip(self.param_groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        by_index = {i: p for g, s in zip(self.param_groups, saved_groups) for i, p in zip(s["params"], g["params"])}
        groups = []
        for g, s in zip(self.param_groups, saved_groups):
            new = {**{k: v for k, v in g.items()}, **{k: v for k, v in s.items() if k != "params"}}
            new["params"] = g["params"]
            self._check_group(new)
            groups.append(new)
        state = {}
        for i, values in _items(state_dict["state"], "state"):
            if i not in by_index:
                raise ValueError(f"loaded state dict has state for parameter {i!r}, which no group lists")
            state[by_index[i]] = self._checked_state(i, values, by_index[i])
        self.param_groups, self.state = groups, state

    def _checked_state(self, i, values, p):
        """A copy of one parameter's saved state, each entry checked against the parameter."""
        where = f"{type(self).__name__}.load_state_dict: state of parameter {i}"
        out = {}
        for key, value in _items(values, where):
            if key in self._int_state:
                if isinstance(value, np.ndarray) and value.ndim == 0:
                    value = value.item()
                if isinstance(value, bool) or not isinstance(value, Real) or value < 0 or value != int(value):
                    raise ValueError(f"{where}: {key} must be a non-negative whole number, got {value!r}")
                out[key] = int(value)
            elif key in self._state_arrays:
                if not isinstance(value, np.ndarray) or value.shape != p.data.shape or value.dtype.kind != "f":
                    got = f"shape {value.shape}, dtype {value.dtype}" if isinstance(value, np.ndarray) else \
                        type(value).__name__
                    raise ValueError(f"{where}: {key} must be a float array of the parameter's shape "
                                     f"{p.data.shape}, got {got}")
                out[key] = value.astype(p.data.dtype)  # a copy, in the parameter's dtype (torch casts too)
            else:
                raise ValueError(f"{where}: unexpected key {key!r}; {type(self).__name__} keeps "
                                 f"{list(self._int_state + self._state_arrays)}")
        missing = [key for key in self._required_state if key not in out]
        if out and missing:
            raise ValueError(f"{where}: missing {missing}; a parameter's state is all there or not at all")
        return out

    def __repr__(self):
        settings = ", ".join(f"{k}={v}" for k, v in self.param_groups[0].items() if k != "params")
        return f"{type(self).__name__}({settings})"


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def _items(mapping, where):
    if not isinstance(mapping, dict):
        raise ValueError(f"{where}: expected a dict, got {type(mapping).__name__}")
    for key, value in mapping.items():
        if isinstance(key, bool) or not isinstance(key, (str, Integral)):
            raise ValueError(f"{where}: unexpected key {key!r}")
        yield (int(key) if isinstance(key, Integral) else key), value


def check_real(group, keys, owner):
    """Raise TypeError unless every `group[key]` is a real number (not a bool)."""
    for key in keys:
        value = group[key]
        if not isinstance(value, Real) or isinstance(value, bool):
            raise TypeError(f"{owner}: {key} must be a real number, got {type(value).__name__}")
