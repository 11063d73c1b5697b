"""Pipelines whose last step is a SteelNet-like model.

:class:`SteelNetPipeline` is an imbalanced-learn
:class:`~imblearn.pipeline.Pipeline` (samplers such as
:class:`~sksteel.sampling.ModalityDropout` act during ``fit`` only) that
also exposes the final estimator's ``explain`` and ``predict_intensity``,
applying the preceding steps first, as ``predict`` does, and ``recommend``,
which searches setpoint changes in the raw input space of the pipeline.
"""

from imblearn.pipeline import Pipeline
from imblearn.pipeline import make_pipeline as _imblearn_make_pipeline
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

__all__ = ["SteelNetPipeline", "make_pipeline"]


def _final_estimator_has(method):
    """Whether the last step has ``method`` (for ``available_if``)."""

    def check(pipeline):
        return hasattr(pipeline._final_estimator, method)

    return check


class SteelNetPipeline(Pipeline):
    """An imbalanced-learn pipeline with ``explain``, ``predict_intensity``
    and ``recommend``.

    Calling ``pipe[-1].explain(X_raw)`` on the raw input of a pipeline is
    wrong as soon as a step transforms the columns; ``explain`` and
    ``predict_intensity`` transform ``X`` through every step but the last
    (skipping samplers, as ``predict`` does) and then call the last step's
    method. They exist when the last step has them. ``recommend`` exists
    when the last step has ``predict_proba``: it runs a
    :class:`~sksteel.recommend.SetpointRecommender` on the whole pipeline,
    so that setpoints, bounds and actionable columns are in the raw input's
    columns and units.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        The steps, as in :class:`imblearn.pipeline.Pipeline`.
    memory : str or object with the joblib.Memory interface, default=None
        Caches the fitted transformers, as in scikit-learn.
    transform_input : list of str, default=None
        Metadata transformed by the steps, as in scikit-learn.
    verbose : bool, default=False
        Print the time each step takes to fit.

    Attributes
    ----------
    named_steps : Bunch
        The steps by name.
    classes_ : ndarray of shape (n_classes,)
        The last step's classes.

    See Also
    --------
    make_pipeline : Build one without naming the steps.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sksteel.models import SteelNetClassifier
    >>> from sksteel.pipeline import SteelNetPipeline
    >>> X, y = make_classification(n_samples=100, n_features=4, random_state=0)
    >>> pipe = SteelNetPipeline([
    ...     ("scale", StandardScaler()),
    ...     ("steelnet", SteelNetClassifier(hidden_layer_sizes=(8,), d_token=4,
    ...                                     max_epochs=2, random_state=0)),
    ... ]).fit(X, y)
    >>> pipe.explain(X[:3]).shape
    (3, 4)
    """

    @available_if(_final_estimator_has("explain"))
    def explain(self, X, **params):
        """Transform ``X`` by the steps before the last, then ``explain`` it.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Input of the first step.
        **params : dict
            Passed to the last step's ``explain``.

        Returns
        -------
        attributions : DataFrame of shape (n_samples, n_features_out)
            The last step's attributions, over the columns it receives.
        """
        return self._final_estimator.explain(self._transform_front(X), **params)

    @available_if(_final_estimator_has("predict_intensity"))
    def predict_intensity(self, X, **params):
        """Transform ``X`` by the steps before the last, then predict the
        intensity.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Input of the first step.
        **params : dict
            Passed to the last step's ``predict_intensity``.

        Returns
        -------
        intensity : ndarray of shape (n_samples,)
            The last step's predicted intensities.
        """
        return self._final_estimator.predict_intensity(
            self._transform_front(X), **params
        )

    @available_if(_final_estimator_has("predict_proba"))
    def recommend(self, X, X_normal, y_normal=None, **params):
        """Recommend setpoint changes of the raw readings ``X``.

        A :class:`~sksteel.recommend.SetpointRecommender` is fitted on the
        rows of normal operation ``X_normal`` with this pipeline as its
        estimator, so it searches in the raw input space: the columns of
        ``X``, their engineering units, and ``bounds`` and ``actionable``
        keyed by the raw column names. The preceding steps are applied each
        time the pipeline scores a candidate. Equivalent to
        ``SetpointRecommender(pipe, **params).fit(X_normal, y_normal)
        .recommend(X)``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Current raw readings (NaN = missing reading, which stays NaN).
        X_normal : DataFrame or array-like of shape (n_normal, n_features)
            Raw rows of normal operation, with the columns of ``X``, whose
            values the search tries.
        y_normal : array-like of shape (n_normal,), default=None
            If given, only the rows of ``X_normal`` labelled as the target
            class are used.
        **params : dict
            Parameters of :class:`~sksteel.recommend.SetpointRecommender`
            (``target``, ``actionable``, ``bounds``, ``max_changes``, ...).

        Returns
        -------
        result : :class:`~sklearn.utils.Bunch`
            The result of
            :meth:`SetpointRecommender.recommend
            <sksteel.recommend.SetpointRecommender.recommend>`, with one
            more key, ``recommender``: the fitted recommender (for
            :meth:`RecommendationDisplay.from_recommendation
            <sksteel.plotting.RecommendationDisplay.from_recommendation>`).

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklearn.impute import SimpleImputer
        >>> from sklearn.preprocessing import StandardScaler
        >>> from sksteel.pipeline import make_pipeline
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame(rng.uniform(0, 10, (300, 2)), columns=["a", "b"])
        >>> y = np.where(X["a"] > 5, "bad", "good")
        >>> pipe = make_pipeline(
        ...     SimpleImputer(), StandardScaler(), LogisticRegression()
        ... ).fit(X, y)
        >>> result = pipe.recommend(
        ...     pd.DataFrame({"a": [8.0], "b": [np.nan]}), X, y,
        ...     target="good", actionable=["a"], bounds={"a": (0, 10)},
        ... )
        >>> bool(result.valid[0]), bool(result.setpoints["a"][0] <= 5)
        (True, True)
        >>> bool(np.isnan(result.setpoints["b"][0]))
        True
        """
        from .recommend import SetpointRecommender

        check_is_fitted(self)
        recommender = SetpointRecommender(self, **params).fit(X_normal, y_normal)
        result = recommender.recommend(X)
        result.recommender = recommender
        return result

    def _transform_front(self, X):
        """``X`` through every transformer before the last step; samplers
        and ``"passthrough"`` steps are skipped."""
        check_is_fitted(self)
        for _, _, step in self._iter(with_final=False):
            X = step.transform(X)
        return X


def make_pipeline(*steps, memory=None, transform_input=None, verbose=False):
    """Build a :class:`SteelNetPipeline`, naming the steps after their class.

    The drop-in for :func:`imblearn.pipeline.make_pipeline` (and scikit-learn's)
    whose result also has ``explain``, ``predict_intensity`` and
    ``recommend``.

    Parameters
    ----------
    *steps : list of estimators
        The steps; the last one is the model.
    memory : str or object with the joblib.Memory interface, default=None
        Caches the fitted transformers.
    transform_input : list of str, default=None
        Metadata transformed by the steps, as in scikit-learn.
    verbose : bool, default=False
        Print the time each step takes to fit.

    Returns
    -------
    pipeline : SteelNetPipeline
        The pipeline, not fitted.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn.compose import ColumnTransformer
    >>> from sksteel.datasets import SENSOR_NAMES
    >>> from sksteel.models import SteelNetClassifier
    >>> from sksteel.pipeline import make_pipeline
    >>> from sksteel.sampling import ModalityDropout
    >>> rng = np.random.RandomState(0)
    >>> X = pd.DataFrame(rng.normal(size=(120, 10)), columns=SENSOR_NAMES)
    >>> y = (X["vibration"] > 0).astype(int)
    >>> X["line"] = 1.0
    >>> prepare = ColumnTransformer([("drop", "drop", ["line"])],
    ...                             remainder="passthrough")
    >>> pipe = make_pipeline(
    ...     prepare.set_output(transform="pandas"),
    ...     ModalityDropout(random_state=0),
    ...     SteelNetClassifier(hidden_layer_sizes=(16,), d_token=4,
    ...                        max_epochs=2, random_state=0),
    ... ).fit(X, y)
    >>> pipe.explain(X.head(2)).columns[0]
    'remainder__surface_cleanliness'
    >>> pipe[-1].sensor_table_["sensor"].iloc[0]  # prefixed names matched
    'surface_cleanliness'
    """
    named = _imblearn_make_pipeline(*steps)
    return SteelNetPipeline(
        named.steps, memory=memory, transform_input=transform_input, verbose=verbose
    )
