"""Portable form of a model: only types skops can store and audit.

skops rebuilds objects from a whitelist of types and never unpickles. Two
kinds of objects in a fitted sksteel model fall outside what it can store:

- the skorch net of :class:`~sksteel.models.SteelNetClassifier`: skorch keeps
  the torch module, criterion and optimizer as *pickled* bytes and unpickles
  them when loaded, so trusting the net type would trust arbitrary code;
- pandas objects (``feature_attributions_``, a DataFrame
  ``attribution_prior``), which skops does not support.

:func:`to_portable` copies a model with each of them replaced by a plain data
holder (:class:`NetWeights`: the module's weights as numpy arrays and the
training history; :class:`PandasData`: columns as numpy arrays and the
labels); :func:`from_portable` undoes it after loading, rebuilding the net
from the estimator's fitted attributes and loading the weights into it.
"""

import io
import pickle
import warnings

import numpy as np
import pandas as pd
import torch
from skorch import NeuralNet
from skorch.history import History

from ..exceptions import SksteelWarning
from ..models import SteelNetClassifier

__all__ = ["NetWeights", "PandasData", "from_portable", "to_portable"]


class NetWeights:
    """The trained state of a ``SteelNetClassifier``'s net, as plain data.

    Parameters
    ----------
    weights : dict of str to ndarray
        The torch module's ``state_dict``, as numpy arrays.
    history : list of dict
        The skorch history records (epochs and their batches).
    """

    def __init__(self, weights, history):
        self.weights = weights
        self.history = history

    @classmethod
    def from_net(cls, net):
        """The weights and history of a fitted skorch net."""
        weights = {
            name: tensor.detach().cpu().numpy()
            for name, tensor in net.module_.state_dict().items()
        }
        return cls(weights, list(net.history))

    def to_net(self, estimator):
        """A fitted net for ``estimator``, ready to predict.

        The net is rebuilt from the estimator's fitted attributes, exactly
        as ``fit`` built it, then receives the stored weights. The optimizer
        state is not kept: ``fit`` starts from scratch anyway.
        """
        net = estimator._build_net(None, validate=False)
        if str(net.device).startswith("cuda") and not torch.cuda.is_available():
            warnings.warn(
                f"The model was configured for device={estimator.device!r}, but "
                "CUDA is not available: it predicts on the CPU. Set "
                "`device='cpu'` on the estimator to silence this warning.",
                SksteelWarning,
                stacklevel=2,
            )
            net.device = "cpu"
        # Initialising draws random weights, about to be overwritten: the
        # user's global torch generator must not move.
        with torch.random.fork_rng(devices=[]):
            net.initialize()
        net.module_.load_state_dict(
            {
                name: torch.from_numpy(np.array(array))
                for name, array in self.weights.items()
            }
        )
        net.history = History(self.history)
        return net


class PandasData:
    """A DataFrame, Series or Index as numpy arrays and labels.

    Each column keeps its dtype by name (``"float64"``, ``"str"``,
    ``"category"``, ...), the index and column labels their names.

    Parameters
    ----------
    kind : {"frame", "series", "index"}
        The pandas type to rebuild.
    columns : list of ndarray
        The values of each column (one for a Series or an Index).
    dtypes : list of str
        The pandas dtype of each column.
    labels : dict
        ``index`` (ndarray), ``index_name``, ``index_dtype``, and for a
        DataFrame ``columns`` (list) and ``columns_name``; for a Series
        ``name``.
    """

    def __init__(self, kind, columns, dtypes, labels):
        self.kind = kind
        self.columns = columns
        self.dtypes = dtypes
        self.labels = labels

    @classmethod
    def from_pandas(cls, obj):
        """The portable form of a DataFrame, Series or Index."""
        if isinstance(obj, pd.Index):
            return cls("index", [obj.to_numpy()], [str(obj.dtype)], {"name": obj.name})
        labels = {
            "index": obj.index.to_numpy(),
            "index_name": obj.index.name,
            "index_dtype": str(obj.index.dtype),
        }
        if isinstance(obj, pd.Series):
            labels["name"] = obj.name
            return cls("series", [obj.to_numpy()], [str(obj.dtype)], labels)
        labels["columns"] = obj.columns.tolist()
        labels["columns_name"] = obj.columns.name
        columns = [obj.iloc[:, i].to_numpy() for i in range(obj.shape[1])]
        return cls("frame", columns, [str(dtype) for dtype in obj.dtypes], labels)

    def to_pandas(self):
        """The DataFrame, Series or Index this holds."""
        labels = self.labels
        if self.kind == "index":
            return pd.Index(self.columns[0], dtype=self.dtypes[0], name=labels["name"])
        index = pd.Index(
            labels["index"], dtype=labels["index_dtype"], name=labels["index_name"]
        )
        if self.kind == "series":
            return pd.Series(
                self.columns[0], index=index, dtype=self.dtypes[0], name=labels["name"]
            )
        frame = pd.DataFrame(
            {
                position: pd.Series(values, index=index, dtype=dtype)
                for position, (values, dtype) in enumerate(
                    zip(self.columns, self.dtypes)
                )
            },
            index=index,
        )
        frame.columns = pd.Index(labels["columns"], name=labels["columns_name"])
        return frame


def _instance(cls, state):
    """An instance of ``cls`` with ``state`` as its attributes."""
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    return obj


def _pandas(state):
    return _instance(PandasData, state).to_pandas()


def _steelnet_from_portable(cls, state):
    estimator = _instance(cls, state)
    estimator.net_ = estimator.net_.to_net(estimator)
    estimator.history_ = estimator.net_.history
    return estimator


def _portable_reduction(obj):
    """How the portable copy stores ``obj``: a pickle reduction, or
    NotImplemented to store it as usual."""
    if isinstance(obj, (pd.DataFrame, pd.Series, pd.Index)):
        return _instance, (PandasData, vars(PandasData.from_pandas(obj)))
    if isinstance(obj, SteelNetClassifier) and "net_" in vars(obj):
        state = dict(vars(obj))
        state["net_"] = NetWeights.from_net(state["net_"])
        state.pop("history_", None)
        return _instance, (type(obj), state)
    if isinstance(obj, (NeuralNet, torch.nn.Module, torch.Tensor)):
        raise TypeError(
            f"An object of type {type(obj).__qualname__!r} in the model cannot be "
            "saved in the skops format: skops cannot store torch objects safely, "
            "and sksteel knows how to rebuild the net of a SteelNetClassifier "
            "only. Save the model with `format='joblib'` for local use."
        )
    return NotImplemented


def _restoring_reduction(obj):
    """How the restored copy stores ``obj`` (the inverse of the above)."""
    if isinstance(obj, PandasData):
        return _pandas, (vars(obj),)
    if isinstance(obj, SteelNetClassifier) and isinstance(
        vars(obj).get("net_"), NetWeights
    ):
        return _steelnet_from_portable, (type(obj), dict(vars(obj)))
    return NotImplemented


class _SubstitutingPickler(pickle.Pickler):
    def __init__(self, file, reduction):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._reduction = reduction

    def reducer_override(self, obj):
        return self._reduction(obj)


def _copy_with(obj, reduction):
    """A deep copy of ``obj`` where ``reduction`` decides how objects are
    rebuilt.

    pickle's traversal is used for the copy because it reaches every object
    the model holds, whatever holds it (pipelines, searches, dicts, object
    arrays). The bytes are written and read back in memory within this
    call, from objects already in the process: no file is unpickled.
    """
    buffer = io.BytesIO()
    _SubstitutingPickler(buffer, reduction).dump(obj)
    return pickle.loads(buffer.getvalue())


def to_portable(model):
    """A copy of ``model`` holding only data skops can store.

    Raises
    ------
    TypeError
        When the model holds a torch object sksteel cannot make portable.
    """
    return _copy_with(model, _portable_reduction)


def from_portable(model):
    """The working model from the copy :func:`to_portable` made."""
    return _copy_with(model, _restoring_reduction)
