"""Estimators' saved state as plain data: pandas objects as numpy arrays.

skops stores numpy arrays and builtins, not pandas objects. An estimator
that keeps a DataFrame or a Series among its attributes (a fitted table, a
DataFrame parameter) mixes in :class:`_PlainStateMixin`, whose
``__getstate__`` stores them as arrays and labels and whose ``__setstate__``
rebuilds them, for every kind of saving (pickle, joblib, ``deepcopy``,
skops).
"""

import pandas as pd

__all__ = ["_PlainStateMixin"]

#: Marks a pandas object stored as plain data in an estimator's state.
_PANDAS = "__sksteel_pandas__"


class _PlainStateMixin:
    """Save the estimator's pandas attributes as numpy arrays and labels.

    Put it before ``BaseEstimator`` in the bases, so that scikit-learn's own
    ``__getstate__`` / ``__setstate__`` (which record and check its version)
    still run.
    """

    def __getstate__(self):
        state = dict(super().__getstate__())
        return {key: _to_plain(value) for key, value in state.items()}

    def __setstate__(self, state):
        super().__setstate__({key: _from_plain(value) for key, value in state.items()})


def _to_plain(value):
    """A pandas DataFrame or Series as plain data; anything else unchanged."""
    if isinstance(value, pd.DataFrame):
        return {
            _PANDAS: "frame",
            "columns": [value.iloc[:, i].to_numpy() for i in range(value.shape[1])],
            "dtypes": [str(dtype) for dtype in value.dtypes],
            "labels": value.columns.tolist(),
            "labels_name": value.columns.name,
            **_index_state(value.index),
        }
    if isinstance(value, pd.Series):
        return {
            _PANDAS: "series",
            "values": value.to_numpy(),
            "dtype": str(value.dtype),
            "name": value.name,
            **_index_state(value.index),
        }
    return value


def _index_state(index):
    return {
        "index": index.to_numpy(),
        "index_dtype": str(index.dtype),
        "index_name": index.name,
    }


def _from_plain(value):
    """The inverse of :func:`_to_plain`."""
    if not (isinstance(value, dict) and value.get(_PANDAS) in ("frame", "series")):
        return value
    index = pd.Index(
        value["index"], dtype=value["index_dtype"], name=value["index_name"]
    )
    if value[_PANDAS] == "series":
        return pd.Series(
            value["values"], index=index, dtype=value["dtype"], name=value["name"]
        )
    frame = pd.DataFrame(
        {
            position: pd.Series(column, index=index, dtype=dtype)
            for position, (column, dtype) in enumerate(
                zip(value["columns"], value["dtypes"])
            )
        },
        index=index,
    )
    frame.columns = pd.Index(value["labels"], name=value["labels_name"])
    return frame
