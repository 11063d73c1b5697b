"""The base of sksteel's torch estimators: parameters, device, seeding,
progress, saved state and repr, written once."""

import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from skorch.history import History

from .._sklearn_compat import Interval, StrOptions
from .._state import _PlainStateMixin
from ..exceptions import DeviceUnavailableError, ModelFileError, SksteelWarning
from ._progress import EpochLines, EpochProgressBar, print_plain

__all__ = ["_BaseTorchEstimator"]


class _BaseTorchEstimator(_PlainStateMixin, BaseEstimator):
    """What every sksteel estimator holding a skorch net shares.

    The shared vocabulary is scikit-learn's (as in ``MLPClassifier`` and
    ``HistGradientBoostingClassifier``): ``lr``, ``weight_decay``,
    ``batch_size``, ``max_epochs``, ``early_stopping``,
    ``validation_fraction``, ``n_iter_no_change``, ``device``,
    ``random_state`` and ``verbose``, validated by the shared
    ``_parameter_constraints`` (merge them:
    ``{**_BaseTorchEstimator._parameter_constraints, "x": [...]}``).

    A subclass writes ``__init__`` (storing its parameters), ``fit`` and the
    predict methods, and one hook:

    ``_rebuild_net()``
        Return the estimator's skorch net, *not initialised*, configured
        from the hyperparameters and the fitted attributes exactly as
        ``fit`` configures it (training-only callbacks may be left out).
        Its device is ``self._resolve_device(fallback=True)``, so that a
        model trained on a GPU loads on a CPU-only machine (with a warning).
        Saved models are loaded through it: the base checks that the stored
        weights match the net's module (built on torch's ``"meta"`` device,
        so no memory is allocated) before initialising it and loading them.

    In ``fit``, a subclass uses:

    - ``seed = self._seed()`` and ``with self._seeded(seed): ...`` around
      everything that draws from torch's generator; the user's global CPU
      and CUDA random states are left untouched;
    - ``device=self._resolve_device()`` for the net (``"auto"``, a string or
      a ``torch.device``; an unavailable device raises
      :class:`~sksteel.exceptions.DeviceUnavailableError`);
    - ``callbacks, settings = self._verbosity_callbacks()``: the progress
      callbacks and the net settings that ``verbose`` asks for;
    - ``self._store_history()`` once ``net_`` is trained, which sets
      ``history_`` and ``n_iter_``.

    The saved state (``__getstate__``, used by pickle, joblib, ``deepcopy``
    and skops) holds the module's weights as numpy arrays, the history as
    plain lists and dicts, pandas objects as arrays, and the other
    attributes as they are: no torch or skorch object is pickled. The repr
    abbreviates parameters that hold tables or long arrays.
    """

    _parameter_constraints: dict = {
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose", StrOptions({"auto"})],
    }

    # ------------------------------------------------------------------
    # Training plumbing
    # ------------------------------------------------------------------

    def _seed(self):
        """One torch seed drawn from ``random_state``."""
        return int(
            check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        )

    @contextmanager
    def _seeded(self, seed):
        """Torch's generators seeded by ``seed``; restored on exit, CPU and CUDA."""
        devices = (
            list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
        )
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    def _resolve_device(self, *, fallback=False):
        """The device the net runs on, as a string.

        ``"auto"`` is ``"cuda"`` when available, else ``"cpu"``. An
        unavailable device raises :class:`DeviceUnavailableError`, or with
        ``fallback=True`` (loading a saved model) warns and gives ``"cpu"``.
        """
        name = type(self).__name__
        if isinstance(self.device, str) and self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError, ValueError) as error:
            raise ValueError(
                f"The 'device' parameter of {name} must be 'auto', 'cpu', 'cuda', "
                f"'cuda:<index>' or a torch.device; got {self.device!r} instead."
            ) from error
        problem = _unavailable(device)
        if problem is None:
            return str(device)
        if fallback:
            warnings.warn(
                f"The model was configured for device={self.device!r}, but {problem}: "
                "it predicts on the CPU. Set `device='cpu'` on the estimator to "
                "silence this warning.",
                SksteelWarning,
                stacklevel=4,
            )
            return "cpu"
        raise DeviceUnavailableError(
            f"{name} was asked to run on device={self.device!r}, but {problem}. "
            "Pass device='cpu', or device='auto' to use a GPU only when there is one."
        )

    def _verbosity_callbacks(self):
        """The progress callbacks and net settings ``verbose`` asks for.

        Returns ``(callbacks, settings)``: a list of ``(name, callback)``
        and keyword arguments for the skorch net (its ``verbose`` and its
        ``print_log``).
        """
        if self.verbose == "auto":
            return [("progress", EpochProgressBar())], _silent_log(0)
        verbose = int(self.verbose)
        if verbose >= 2:
            return [], {"verbose": verbose, "callbacks__print_log__sink": print_plain}
        if verbose == 1:
            return [("progress", EpochLines())], _silent_log(1)
        return [], _silent_log(0)

    def _store_history(self):
        """``history_`` and ``n_iter_`` from the trained ``net_``."""
        self.history_ = self.net_.history
        self.n_iter_ = len(self.history_)

    def _rebuild_net(self):
        """The estimator's net, not initialised (see the class docstring)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `_rebuild_net()` to be saved."
        )

    # ------------------------------------------------------------------
    # Saved state
    # ------------------------------------------------------------------

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("history_", None)
        net = state.pop("net_", None)
        if net is not None:
            state["net_"] = {
                "weights": {
                    name: tensor.detach().cpu().numpy()
                    for name, tensor in net.module_.state_dict().items()
                },
                "history": _plain_history(list(net.history)),
            }
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved = state.pop("net_", None)
        super().__setstate__(state)
        if saved is not None:
            self.net_ = self._load_net(saved)
            self.history_ = self.net_.history

    def _load_net(self, saved):
        """The fitted net from its saved weights, checked before allocating."""
        name = type(self).__name__
        weights, history = _saved_parts(saved, name)
        try:
            self._validate_params()
            net = self._rebuild_net()
            with torch.device("meta"):
                expected = net.module(**net.get_params_for("module")).state_dict()
        except ModelFileError:
            raise
        except Exception as error:
            raise ModelFileError(
                f"The saved hyperparameters and fitted attributes of the {name} "
                f"cannot build its network: {str(error).rstrip('.')}."
            ) from error
        _check_weights(weights, expected, name)
        # Initialising draws random weights, about to be overwritten: the
        # user's global torch generators must not move.
        with self._seeded(0):
            net.initialize()
        net.module_.load_state_dict(
            {key: torch.from_numpy(np.array(array)) for key, array in weights.items()}
        )
        net.history = History(history)
        return net

    # ------------------------------------------------------------------
    # Repr
    # ------------------------------------------------------------------

    def __repr__(self, N_CHAR_MAX=700):
        params = self.get_params(deep=False)
        short = {
            key: _Abbreviation(value)
            for key, value in params.items()
            if _is_bulky(value)
        }
        if not short:
            return super().__repr__(N_CHAR_MAX)
        return BaseEstimator.__repr__(type(self)(**{**params, **short}), N_CHAR_MAX)


def _silent_log(verbose):
    return {"verbose": verbose, "callbacks__print_log": None}


def _unavailable(device):
    """Why ``device`` cannot be used here, or None when it can."""
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return "CUDA is not available (torch.cuda.is_available() is False)"
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            return f"this machine has {count} CUDA device(s)"
    if device.type == "mps" and not torch.backends.mps.is_available():
        return "MPS is not available on this machine"
    return None


def _saved_parts(saved, name):
    """The weights and history of a saved net, checked for their types."""
    weights = saved.get("weights") if isinstance(saved, dict) else None
    history = saved.get("history") if isinstance(saved, dict) else None
    if not (
        isinstance(weights, dict)
        and all(isinstance(array, np.ndarray) for array in weights.values())
        and isinstance(history, list)
    ):
        raise ModelFileError(
            f"The saved network of the {name} is malformed: expected its weights as "
            "a dict of arrays and its history as a list."
        )
    return weights, history


def _check_weights(weights, expected, name):
    """Raise when the stored weights disagree with the network they are for."""
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    wrong = [
        f"{key!r} is {tuple(weights[key].shape)} in the file but "
        f"{tuple(expected[key].shape)} from the hyperparameters"
        for key in expected
        if key in weights and tuple(weights[key].shape) != tuple(expected[key].shape)
    ]
    problems = [
        *([f"missing weights {missing[:3]!r}"] if missing else []),
        *([f"unexpected weights {extra[:3]!r}"] if extra else []),
        *wrong[:3],
    ]
    if problems:
        raise ModelFileError(
            f"The saved weights of the {name} do not match its saved hyperparameters "
            f"and fitted sizes: {'; '.join(problems)}."
        )


def _plain_history(value):
    """The history with numpy scalars as Python numbers (skops-storable)."""
    if isinstance(value, dict):
        return {key: _plain_history(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_history(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


#: Parameters longer than this many entries are abbreviated in the repr.
_REPR_MAX_ITEMS = 6


def _is_bulky(value):
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return True
    if isinstance(value, np.ndarray):
        return value.ndim > 1 or value.size > _REPR_MAX_ITEMS
    if isinstance(value, (dict, list)):
        return len(value) > _REPR_MAX_ITEMS
    return False


class _Abbreviation:
    """Stands for a bulky parameter in the repr: its type and shape."""

    def __init__(self, value):
        shape = getattr(value, "shape", None)
        if shape is None:
            self.text = f"<{type(value).__name__} of {len(value)} items>"
        else:
            self.text = f"<{type(value).__name__} of shape {tuple(shape)}>"

    def __repr__(self):
        return self.text
