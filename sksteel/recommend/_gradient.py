"""Gradient-based setpoint search through a differentiable classifier.

The search moves the free readings (actionable and not NaN) of all rows at
once, in units of each column's cost scale, with Adam on

``-log p(target) + COST_WEIGHT * sum |change| + PLAUSIBILITY_WEIGHT *
max(nearest-normal distance - 0.9 radius, 0) ** 2``

projecting onto the feasible bounds after every step. A sparsity step then
keeps only the ``k`` largest changes (``k = 1, 2, ..., max_changes``),
resets the other columns and optimises again, so that a row gets the
fewest changed columns that reach the threshold.
"""

import numpy as np
import torch
from sklearn.pipeline import Pipeline

__all__ = ["differentiable_proba", "gradient_search"]

#: Adam steps of one optimisation and their learning rate (cost-scale units).
N_STEPS = 150
LEARNING_RATE = 0.2

#: Weight of the L1 cost of the changes, in cost-scale units.
COST_WEIGHT = 0.02

#: Weight of the squared distance beyond the plausible radius.
PLAUSIBILITY_WEIGHT = 10.0

#: The plausibility term pulls a point to within this share of the plausible
#: radius: inside the region, not on its edge.
RADIUS_MARGIN = 0.9

#: Changes below this (in cost-scale units) are undone when the point stays
#: valid without them.
NEGLIGIBLE_CHANGE = 0.01

#: Rows optimised together against the nearest-normal reference.
_BATCH = 256


def differentiable_proba(estimator):
    """The estimator's ``proba_tensor``, or None when it has none.

    A pipeline qualifies when its last step has one and every other step is
    a sampler (``fit_resample``, applied only during ``fit``) or
    ``"passthrough"``: then ``predict_proba`` feeds the readings to the last
    step unchanged.
    """
    if isinstance(estimator, Pipeline):
        front = [step for _, step in estimator.steps[:-1]]
        if not all(
            step is None or step == "passthrough" or hasattr(step, "fit_resample")
            for step in front
        ):
            return None
        estimator = estimator.steps[-1][1]
    return getattr(estimator, "proba_tensor", None)


def gradient_search(proba, X, free, problem):
    """Sparse, bounded, valid changes of each row of X by gradient descent.

    Parameters
    ----------
    proba : callable
        Maps a float64 tensor of readings to class probabilities, in torch.
    X : ndarray of shape (n_rows, n_features)
        Current readings (NaN = missing).
    free : ndarray of bool of shape (n_rows, n_features)
        The readings that may change.
    problem : dict
        ``target_index``, ``bounds`` (n_features, 2), ``scale``,
        ``reference`` (normal rows), ``radius``, ``max_changes``,
        ``threshold`` and ``accept`` (a callable: points, probabilities ->
        bool array, whether a point counts as valid).

    Returns
    -------
    found : list of tuple or None
        Per row, ``(columns, point, probability, cost)`` of the valid change
        of fewest columns, or None.
    """
    scale = problem["scale"]
    found = [None] * X.shape[0]
    if not free.any():
        return found
    unrestricted = _optimise(proba, X, free, problem)
    size = np.abs(np.nan_to_num((unrestricted - X) / scale)) * free
    order = np.argsort(-size, axis=1, kind="stable")
    pending = np.flatnonzero(free.any(axis=1))
    for k in range(1, problem["max_changes"] + 1):
        if not pending.size:
            break
        keep = np.zeros_like(free[pending])
        rows = np.arange(pending.size)[:, None]
        keep[rows, order[pending, :k]] = True
        keep &= free[pending] & (size[pending] > 0)
        points = _optimise(proba, X[pending], keep, problem)
        points, p, ok = _undo_negligible(proba, X[pending], points, problem)
        for i, row in enumerate(pending):
            if ok[i]:
                delta = np.nan_to_num(points[i] - X[row])
                columns = tuple(int(j) for j in np.flatnonzero(delta != 0))
                cost = float((np.abs(delta) / scale).sum())
                found[row] = (columns, points[i], float(p[i]), cost)
        pending = pending[~ok]
    return found


def _undo_negligible(proba, X, points, problem):
    """Points with changes below NEGLIGIBLE_CHANGE undone where they stay
    valid; their target probabilities and validity."""
    small = np.abs(np.nan_to_num((points - X) / problem["scale"])) < NEGLIGIBLE_CHANGE
    trimmed = np.where(small, X, points)
    p_points = _probabilities(proba, points, problem["target_index"])
    p_trimmed = _probabilities(proba, trimmed, problem["target_index"])
    ok_points = problem["accept"](points, p_points)
    ok_trimmed = problem["accept"](trimmed, p_trimmed)
    use = ok_trimmed[:, None] | ~ok_points[:, None]
    chosen = np.where(use, trimmed, points)
    p = np.where(ok_trimmed | ~ok_points, p_trimmed, p_points)
    return chosen, p, ok_trimmed | ok_points


def _probabilities(proba, points, target_index):
    with torch.no_grad():
        return proba(torch.from_numpy(points))[:, target_index].double().numpy()


def _optimise(proba, X, free, problem):
    """X with its free readings optimised, in batches of rows."""
    out = X.copy()
    for start in range(0, X.shape[0], _BATCH):
        rows = slice(start, start + _BATCH)
        if free[rows].any():
            out[rows] = _optimise_batch(proba, X[rows], free[rows], problem)
    return out


def _optimise_batch(proba, X, free, problem):
    scale = torch.from_numpy(problem["scale"])
    low, high = (torch.from_numpy(b) / scale for b in problem["bounds"].T)
    current = torch.from_numpy(X)
    mask = torch.from_numpy(free)
    start = torch.nan_to_num(current / scale)
    value = start.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([value], lr=LEARNING_RATE)
    reference = torch.from_numpy(problem["reference"] / problem["scale"])
    radius = RADIUS_MARGIN * float(problem["radius"])
    for _ in range(N_STEPS):
        point = torch.where(mask, value * scale, current)
        p = proba(point)[:, problem["target_index"]]
        loss = -torch.log(p.clamp_min(1e-12))
        loss = loss + COST_WEIGHT * ((value - start).abs() * mask).sum(dim=1)
        if np.isfinite(radius):
            beyond = (_nearest_distance(point / scale, reference) - radius).clamp_min(0)
            loss = loss + PLAUSIBILITY_WEIGHT * beyond**2
        (gradient,) = torch.autograd.grad(loss.sum(), [value])
        optimiser.zero_grad()
        value.grad = gradient
        optimiser.step()
        with torch.no_grad():
            value.copy_(torch.maximum(torch.minimum(value, high), low))
    with torch.no_grad():
        point = torch.where(mask, value * scale, current)
    return point.numpy()


def _nearest_distance(points, reference):
    """NaN-aware Euclidean distance of each point to its nearest reference
    row (as :func:`sklearn.metrics.pairwise.nan_euclidean_distances`)."""
    present = ~torch.isnan(points)[:, None, :] & ~torch.isnan(reference)[None]
    gap = torch.where(
        present,
        torch.nan_to_num(points)[:, None, :] - torch.nan_to_num(reference)[None],
        torch.zeros((), dtype=points.dtype),
    )
    seen = present.sum(dim=2).clamp_min(1)
    squared = (gap**2).sum(dim=2) * points.shape[1] / seen
    return (squared.min(dim=1).values + 1e-12).sqrt()
