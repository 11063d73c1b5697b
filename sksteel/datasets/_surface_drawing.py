"""Procedural steel surfaces: defect shapes (masks) and the pixels they paint.

Two separable steps. *Drawing* places each defect of an image as a boolean
mask inside its own bounding box, using only the image's shape generator;
it is all the mask tables need, so it is kept cheap. *Painting* renders the
brushed-steel background and then alters exactly the masked pixels of each
defect, using a second generator, so the masks never depend on whether the
image is rendered.

The rolling direction runs along the image height, as in Severstal: the
rolling streaks and the inclusion stringers are vertical.
"""

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .._schema import IMAGE_SHAPE

__all__ = []

_HEIGHT, _WIDTH = IMAGE_SHAPE

#: How often a defect region is moved to avoid regions of other classes.
_PLACEMENT_TRIES = 10


@dataclass(frozen=True)
class _Defect:
    """One drawn defect region: its class and its mask inside a bounding box.

    ``depth`` has the box's shape too: at most 0 on and outside the mask's
    edge, 1 or more in its core. Painting shades with it (see ``profile``);
    drawing never needs more than the mask, so nothing else is computed.
    """

    class_id: int
    top: int
    left: int
    mask: np.ndarray
    depth: np.ndarray

    @property
    def window(self):
        """The bounding box as a pair of slices into the image."""
        height, width = self.mask.shape
        return (
            slice(self.top, self.top + height),
            slice(self.left, self.left + width),
        )

    @property
    def profile(self):
        """``depth`` clipped to [0, 1] on the mask: 0 on the edge, 1 inside."""
        return np.clip(self.depth, 0.0, 1.0) * self.mask


# --------------------------------------------------------------------------
# Smooth noise


@lru_cache(maxsize=4096)
def _interpolation(n, knots):
    """How ``knots`` evenly spaced values interpolate onto ``n`` points: the
    index of the knot below and above each point and the weight of the one
    above, eased by smoothstep so that no kinks show at the knots."""
    step = (knots - 1) / (n - 1) if n > 1 else 0.0
    position = np.arange(n, dtype=np.float32) * np.float32(step)
    low = np.minimum(position.astype(np.intp), max(knots - 2, 0))
    high = np.minimum(low + 1, knots - 1)
    t = np.clip(position - low, 0.0, 1.0)
    t = t * t * (3.0 - 2.0 * t)
    for array in (low, high, t):
        array.setflags(write=False)
    return low, high, t


@lru_cache(maxsize=1024)
def _interpolation_matrix(n, knots):
    """The same interpolation as a dense, read-only (n, knots) matrix."""
    low, high, t = _interpolation(n, knots)
    matrix = np.zeros((n, knots), dtype=np.float32)
    matrix[np.arange(n), low] = 1.0 - t
    matrix[np.arange(n), high] += t
    matrix.setflags(write=False)
    return matrix


def _noise_rows(rng, width, knots, amplitude=1.0):
    """``knots[0]`` rows of smooth noise interpolated across ``width``."""
    grid = rng.uniform(-amplitude, amplitude, size=knots).astype(np.float32)
    low, high, t = _interpolation(width, knots[1])
    return grid[:, low] + t * (grid[:, high] - grid[:, low])


def _smooth_noise(rng, shape, knots):
    """Smooth random field of ``shape`` with values in [-1, 1].

    ``knots = (ky, kx)`` random values are drawn on a coarse grid and
    interpolated, so features are about ``shape / knots`` pixels large.
    """
    rows = _noise_rows(rng, shape[1], knots)
    return _interpolation_matrix(shape[0], knots[0]) @ rows


def _smooth_layers(rng, shape, layers):
    """The sum of several smooth noise fields, ``(amplitude, knots)`` each,
    interpolated along the height in a single matrix product."""
    rows = [_noise_rows(rng, shape[1], knots, amp) for amp, knots in layers]
    weights = [_interpolation_matrix(shape[0], knots[0]) for _, knots in layers]
    return np.hstack(weights) @ np.vstack(rows)


# --------------------------------------------------------------------------
# Drawing: masks


def _place(rng, height, width):
    """A random top-left corner for a box of the given size."""
    return (
        int(rng.integers(0, _HEIGHT - height + 1)),
        int(rng.integers(0, _WIDTH - width + 1)),
    )


def _log_uniform(rng, low, high):
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _blob(rng, class_id, height, width, roughness, knots):
    """An irregular filled region around an ellipse of ``height`` x ``width``.

    The ellipse's radius varies by up to ``roughness`` (relative), with bumps
    about ``size / knots`` large; the bounding box leaves room for the
    largest bumps, so the region never touches it unless the image cuts it.
    """
    margin = 1.0 + roughness
    box_height = int(np.clip(round(height * margin), 8, _HEIGHT))
    box_width = int(np.clip(round(width * margin), 8, _WIDTH))
    y = np.arange(box_height, dtype=np.float32)[:, None] - (box_height - 1) / 2
    x = np.arange(box_width, dtype=np.float32)[None, :] - (box_width - 1) / 2
    radius = np.sqrt((y / (height / 2)) ** 2 + (x / (width / 2)) ** 2)
    bumps = _smooth_noise(rng, (box_height, box_width), knots)
    bumps += 0.4 * _smooth_noise(
        rng, (box_height, box_width), (2 * knots[0], 2 * knots[1])
    )
    inside = 1.0 + roughness * bumps / 1.4 - radius
    mask = inside > 0.0
    mask[box_height // 2, box_width // 2] = True
    top, left = _place(rng, box_height, box_width)
    return _Defect(class_id, top, left, mask, inside * 4.0)


class _BlobShape(NamedTuple):
    """How a class drawn as irregular regions looks: how many regions an
    image gets (``counts`` with probabilities ``count_p``), the log-uniform
    ranges of their height and width in pixels, how irregular the outline
    is and how many bumps it has (see ``_blob``)."""

    counts: tuple
    count_p: tuple
    height: tuple
    width: tuple
    roughness: float
    knots: tuple


_BLOB_SHAPES = {
    # Crazing: small regions (the cracks themselves are painted).
    1: _BlobShape((1, 2, 3), (0.5, 0.3, 0.2), (24, 96), (30, 130), 0.35, (4, 5)),
    # Patches: large irregular blotches.
    3: _BlobShape((1, 2), (0.6, 0.4), (50, 256), (60, 520), 0.55, (5, 7)),
    # Pitted: regions holding clusters of pits (the pits are painted).
    4: _BlobShape((1, 2), (0.6, 0.4), (40, 200), (50, 340), 0.45, (4, 6)),
}

#: Stringers of inclusions per image, with their probabilities.
_STRINGER_COUNTS = ((1, 2, 3), (0.55, 0.3, 0.15))


def _draw_regions(rng, class_id):
    """The regions of one class on one image."""
    if class_id == 2:
        counts, count_p = _STRINGER_COUNTS
        return [_stringer(rng) for _ in range(rng.choice(counts, p=count_p))]
    shape = _BLOB_SHAPES[class_id]
    return [
        _blob(
            rng,
            class_id,
            _log_uniform(rng, *shape.height),
            _log_uniform(rng, *shape.width),
            roughness=shape.roughness,
            knots=shape.knots,
        )
        for _ in range(rng.choice(shape.counts, p=shape.count_p))
    ]


def _stringer(rng, halo=3.5):
    """Inclusions: a chain of 1-4 slender particles along the rolling
    direction, one below the other, each with a faint halo."""
    n_particles = int(rng.integers(1, 5))
    half_lengths = rng.uniform(10.0, 60.0, n_particles)
    half_widths = rng.uniform(1.5, 4.0, n_particles)
    gaps = rng.uniform(2.0, 20.0, n_particles)
    centres_y = np.cumsum(2 * half_lengths + gaps) - half_lengths - gaps + halo + 1
    drift = rng.uniform(-4.0, 4.0, n_particles)
    tilts = rng.uniform(-0.06, 0.06, n_particles)
    height = int(min(np.ceil(centres_y[-1] + half_lengths[-1] + halo + 1), _HEIGHT))
    reach = np.abs(drift) + np.abs(tilts) * half_lengths + half_widths + halo
    width = int(np.ceil(2 * reach.max() + 3))
    y = np.arange(height, dtype=np.float32)[None, :, None]
    x = np.arange(width, dtype=np.float32)[None, None, :] - (width - 1) / 2
    dy = y - centres_y[:, None, None]
    dx = x - drift[:, None, None] - tilts[:, None, None] * dy
    axes = (half_lengths[:, None, None], half_widths[:, None, None])
    core = np.sqrt((dy / axes[0]) ** 2 + (dx / axes[1]) ** 2).min(axis=0)
    outer = np.sqrt((dy / (axes[0] + halo)) ** 2 + (dx / (axes[1] + halo)) ** 2).min(
        axis=0
    )
    mask = outer < 1.0
    top, left = _place(rng, height, width)
    return _Defect(2, top, left, mask, 1.0 - core)


def _overlap(first, second):
    """Whether the masks of two drawn defects share a pixel."""
    (rows_1, cols_1), (rows_2, cols_2) = first.window, second.window
    rows = slice(max(rows_1.start, rows_2.start), min(rows_1.stop, rows_2.stop))
    cols = slice(max(cols_1.start, cols_2.start), min(cols_1.stop, cols_2.stop))
    if rows.stop <= rows.start or cols.stop <= cols.start:
        return False
    return bool((_crop(first, rows, cols) & _crop(second, rows, cols)).any())


def _crop(defect, rows, cols):
    """The part of a defect's mask that lies in the image's ``rows, cols``."""
    return defect.mask[
        rows.start - defect.top : rows.stop - defect.top,
        cols.start - defect.left : cols.stop - defect.left,
    ]


def _draw_defects(rng, classes):
    """Draw every defect region of an image holding ``classes``.

    A region is moved (a few tries at most) when it would cover a region of
    another class: Severstal's masks of different classes rarely overlap.
    """
    placed = []
    for class_id in classes:
        for defect in _draw_regions(rng, class_id):
            others = [d for d in placed if d.class_id != class_id]
            for _ in range(_PLACEMENT_TRIES):
                if not any(_overlap(defect, other) for other in others):
                    break
                top, left = _place(rng, *defect.mask.shape)
                defect = replace(defect, top=top, left=left)
            placed.append(defect)
    return placed


def _full_masks(defects, classes):
    """One full-size boolean mask per class, from the drawn regions."""
    # Column-major, like the encoding, so that encoding does not copy them.
    masks = {c: np.zeros(IMAGE_SHAPE, dtype=bool, order="F") for c in classes}
    for defect in defects:
        masks[defect.class_id][defect.window] |= defect.mask
    return masks


# --------------------------------------------------------------------------
# Painting: pixels


def _background(rng):
    """Brushed, rolled steel in gray levels (float32, about 30-200).

    An overall level, a smooth illumination gradient, rolling streaks and a
    few scratches that run along the height, faint stains and fine grain.
    """
    layers = [
        (34.0, (2, 4)),  # illumination
        (11.0, (3, 110)),  # broad rolling bands
        (8.0, (2, 520)),  # fine rolling streaks
    ]
    image = _smooth_layers(rng, IMAGE_SHAPE, layers)
    image += rng.uniform(70.0, 125.0)
    # Stains with fairly sharp edges, drawn out along the rolling direction.
    octaves = [(1.0, (5, 70)), (0.6, (9, 150)), (0.35, (17, 310)), (0.7, (2, 6))]
    stains = _smooth_layers(rng, IMAGE_SHAPE, octaves)
    stains -= rng.uniform(0.6, 1.0)
    stains *= 3.0
    np.clip(stains, 0.0, 1.0, out=stains)
    stains *= rng.uniform(14.0, 30.0)
    image += stains
    n_scratches = int(rng.integers(0, 7))
    columns = rng.integers(0, _WIDTH - 3, n_scratches)
    for column in columns:
        fade = np.clip(_smooth_noise(rng, (_HEIGHT, 1), (3, 1)) + 0.6, 0.0, 1.0)
        contrast = rng.choice([-1.0, 1.0]) * rng.uniform(8.0, 25.0)
        width = int(rng.integers(1, 4))
        image[:, column : column + width] += contrast * fade
    # Grain, slightly elongated along the rolling direction.
    grain = rng.random((_HEIGHT + 1, _WIDTH), dtype=np.float32)
    grain[:-1] += grain[1:]
    grain -= 1.0
    grain *= 11.0
    image += grain[:-1]
    return image


def _crack_strength(rng, shape, cell):
    """Strength in [0, 1] of a network of fine branching cracks: the edges of
    a warped Voronoi tessellation, some of them broken off.

    One seed is jittered inside each ``cell``-sized square, so the two
    nearest seeds of a pixel are among the 3 x 3 squares around it.
    """
    height, width = shape
    n_rows, n_cols = int(height // cell) + 3, int(width // cell) + 3
    seeds_y = (np.arange(n_rows)[:, None] - 1 + rng.random((n_rows, n_cols))) * cell
    seeds_x = (np.arange(n_cols)[None, :] - 1 + rng.random((n_rows, n_cols))) * cell
    knots = (max(2, height // 12), max(2, width // 12))
    y = np.arange(height, dtype=np.float32)[:, None] + 2.5 * _smooth_noise(
        rng, shape, knots
    )
    x = np.arange(width, dtype=np.float32)[None, :] + 2.5 * _smooth_noise(
        rng, shape, knots
    )
    row = np.clip(np.floor(y / cell).astype(np.int64) + 1, 1, n_rows - 2)
    col = np.clip(np.floor(x / cell).astype(np.int64) + 1, 1, n_cols - 2)
    steps = np.array([-1, 0, 1])
    rows = (row[None] + np.repeat(steps, 3)[:, None, None]).astype(np.intp)
    cols = (col[None] + np.tile(steps, 3)[:, None, None]).astype(np.intp)
    near_y, near_x = seeds_y[rows, cols], seeds_x[rows, cols]
    distance = np.hypot(y - near_y, x - near_x)
    nearest = np.argpartition(distance, 1, axis=0)[:2]
    d1, d2 = np.take_along_axis(distance, nearest, axis=0)
    (y1, y2), (x1, x2) = (
        np.take_along_axis(near, nearest, axis=0) for near in (near_y, near_x)
    )
    # Distance to the bisector of the two nearest seeds, in pixels.
    gap = (d2 * d2 - d1 * d1) / (2.0 * np.hypot(y1 - y2, x1 - x2) + 1e-6)
    crack_width = rng.uniform(0.7, 1.4)
    strength = np.clip(1.0 - gap / crack_width, 0.0, 1.0)
    strength[_smooth_noise(rng, shape, knots) < -0.35] = 0.0
    return strength


def _pit_strength(rng, mask, density):
    """Strength in [0, 1] of small round pits scattered over ``mask``."""
    rows, cols = np.nonzero(mask)
    n_pits = max(1, int(density * rows.size))
    # Pits gather in clusters: sample them where a smooth field is high.
    knots = (max(2, mask.shape[0] // 20), max(2, mask.shape[1] // 20))
    cluster = np.clip(_smooth_noise(rng, mask.shape, knots)[rows, cols], 0.0, None)
    weights = cluster**2 + 0.03
    chosen = rng.choice(rows.size, n_pits, p=weights / weights.sum())
    radius = rng.uniform(1.0, 3.2, n_pits).astype(np.float32)
    depth = rng.uniform(0.5, 1.0, n_pits).astype(np.float32)
    reach = 4
    offsets = np.arange(-reach, reach + 1)
    dy, dx = np.meshgrid(offsets, offsets, indexing="ij")
    dy, dx = dy.ravel(), dx.ravel()
    fall = 1.0 - np.hypot(dy, dx)[None, :] / radius[:, None]
    value = (depth[:, None] * np.clip(fall, 0.0, 1.0) ** 0.7).ravel()
    ys = (rows[chosen][:, None] + dy[None, :]).ravel()
    xs = (cols[chosen][:, None] + dx[None, :]).ravel()
    keep = (ys >= 0) & (ys < mask.shape[0]) & (xs >= 0) & (xs < mask.shape[1])
    strength = np.zeros(mask.shape, dtype=np.float32)
    np.maximum.at(strength, (ys[keep], xs[keep]), value[keep])
    return strength


def _shade(rng, defect, local):
    """How much a defect changes the background ``local`` in its box.

    Darkening defects blend each pixel towards a dark tone by ``alpha``;
    patches shift the gray level instead, keeping the texture beneath.
    """
    shape = defect.mask.shape
    mean = float(local[defect.mask].mean())
    profile = defect.profile
    if defect.class_id == 1:
        # Crazing: a faint darkening crossed by a network of dark cracks.
        cracks = _crack_strength(rng, shape, cell=rng.uniform(10.0, 18.0))
        alpha = 0.14 + 0.08 * profile + 0.7 * cracks
        return alpha * (0.25 * mean - local)
    if defect.class_id == 2:
        # Inclusion: dark particles with a faint halo.
        alpha = 0.14 + 0.8 * np.sqrt(profile)
        return alpha * (rng.uniform(0.1, 0.3) * mean - local)
    if defect.class_id == 3:
        # Patches: lighter or darker mottled blotches with a dark rim.
        sign = 1.0 if rng.random() < 0.4 else -1.0
        shift = sign * rng.uniform(30.0, 55.0) * (0.6 + 0.4 * profile)
        texture = _smooth_noise(rng, shape, (4, max(2, shape[1] // 8)))
        texture += 0.5 * rng.standard_normal(shape, dtype=np.float32)
        rim = -25.0 * (profile < 0.2)
        return shift + 12.0 * texture + rim
    # Pitted: a rough darkening dotted with clusters of dark pits.
    pits = _pit_strength(rng, defect.mask, density=rng.uniform(0.008, 0.02))
    rough = rng.standard_normal(shape, dtype=np.float32)
    alpha = np.clip(0.2 + 0.06 * rough + 0.75 * pits, 0.08, 0.95)
    return alpha * (0.15 * mean - local)


def _paint(rng, defects):
    """The rendered gray image (uint8) of the background and ``defects``.

    Only the masked pixels of each defect differ from the background.
    """
    image = _background(rng)
    for defect in defects:
        window = defect.window
        image[window] += _shade(rng, defect, image[window]) * defect.mask
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)
