"""Throughput of sksteel's run-length codec against a per-run Python loop.

Decodes every encoding of a Severstal table into a 256 x 1600 mask and
encodes the masks back, with ``sksteel.preprocessing.rle_decode`` /
``rle_encode`` and, in the same process, with the straightforward loop
implementations below (decode: one slice assignment per run; encode: one
step per pixel). Decoding is timed twice: as users get it (the compiled
decoder when numba is installed) and on the numpy path alone. Reports masks
per second and the speed-up, prints a table and writes
``benchmarks/results/bench_rle.json``.

Usage::

    python benchmarks/bench_rle.py [--csv train.csv] [--n-loop-encode 300]

Without a readable ``--csv`` (default: the real subset beside the project),
random masks with a fixed seed stand in for the real encodings.
"""

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

import sksteel
from sksteel._schema import IMAGE_SHAPE
from sksteel.preprocessing import rle_decode, rle_encode
from sksteel.preprocessing._rle import _flat_mask, _parse_rle
from sksteel.preprocessing._rle_kernel import get_kernel

HERE = Path(__file__).resolve().parent
DEFAULT_CSV = (
    HERE.parents[1] / "shared" / "data" / "severstal" / "train_partial_defects.csv"
)
RESULT = HERE / "results" / "bench_rle.json"
SEED = 0


def loop_decode(rle, shape=IMAGE_SHAPE):
    """Reference decoder: parse each pair, assign its slice, run by run."""
    height, width = shape
    flat = np.zeros(height * width, dtype=bool)
    values = rle.split()
    for i in range(0, len(values), 2):
        start = int(values[i]) - 1
        flat[start : start + int(values[i + 1])] = True
    return flat.reshape(width, height).T


def numpy_decode(rle, shape=IMAGE_SHAPE):
    """sksteel's decoder without the compiled kernel (the numpy path)."""
    return _flat_mask(_parse_rle(rle, shape)).reshape(shape[1], shape[0]).T


def loop_encode(mask):
    """Reference encoder: walk the pixels in column-major order."""
    runs = []
    start = None
    pixels = mask.ravel(order="F").tolist()
    for index, pixel in enumerate(pixels):
        if pixel and start is None:
            start = index
        elif not pixel and start is not None:
            runs.append(f"{start + 1} {index - start}")
            start = None
    if start is not None:
        runs.append(f"{start + 1} {len(pixels) - start}")
    return " ".join(runs)


def random_encodings(n_masks, seed=SEED):
    """Encodings of random blob-like masks (rectangles), fixed seed."""
    rng = np.random.default_rng(seed)
    height, width = IMAGE_SHAPE
    encodings = []
    for _ in range(n_masks):
        mask = np.zeros(IMAGE_SHAPE, dtype=bool)
        for _ in range(rng.integers(1, 6)):
            top, left = rng.integers(0, height - 1), rng.integers(0, width - 1)
            mask[
                top : top + rng.integers(1, 120), left : left + rng.integers(1, 300)
            ] = True
        encodings.append(rle_encode(mask))
    return encodings


def load_encodings(csv):
    """The non-empty encodings of a Severstal table, and where they came from."""
    if csv is not None and Path(csv).is_file():
        column = pd.read_csv(csv, dtype=str)["EncodedPixels"].dropna()
        return column[column.str.strip() != ""].tolist(), str(csv)
    print(f"{csv} not found: using 2,000 random masks (seed {SEED}) instead.")
    return random_encodings(2000), f"random rectangles, seed {SEED}"


def decode_rate(decode, encodings, repeat=3):
    """Best masks per second of ``decode`` over ``repeat`` passes."""
    best = np.inf
    for _ in range(repeat):
        tic = time.perf_counter()
        for rle in encodings:
            decode(rle)
        best = min(best, time.perf_counter() - tic)
    return len(encodings) / best


def encode_rate(encode, encodings, repeat=3):
    """Best masks per second of ``encode``; each mask is decoded (untimed)
    just before, so that no more than one mask is in memory."""
    best = np.inf
    for _ in range(repeat):
        elapsed = 0.0
        for rle in encodings:
            mask = rle_decode(rle)
            tic = time.perf_counter()
            encode(mask)
            elapsed += time.perf_counter() - tic
        best = min(best, elapsed)
    return len(encodings) / best


def _numba_version():
    """numba's version, or None when it is not installed."""
    try:
        import numba
    except ImportError:
        return None
    return numba.__version__


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", default=DEFAULT_CSV, help="Severstal table")
    parser.add_argument(
        "--n-loop-encode",
        type=int,
        default=300,
        help="masks timed with the per-pixel loop encoder (it is slow)",
    )
    args = parser.parse_args(argv)

    encodings, source = load_encodings(args.csv)
    loop_sample = encodings[: args.n_loop_encode]
    # Every implementation must give the same answer before anything is timed.
    for rle in encodings:
        mask = rle_decode(rle)
        assert rle_encode(mask) == rle and np.array_equal(loop_decode(rle), mask)
        assert np.array_equal(numpy_decode(rle), mask)
    for rle in loop_sample:
        assert loop_encode(rle_decode(rle)) == rle

    compiled = get_kernel() is not None
    rows = []
    for task, rate, fast, loop, loop_items in [
        ("decode", decode_rate, rle_decode, loop_decode, encodings),
        ("decode (numpy path)", decode_rate, numpy_decode, loop_decode, encodings),
        ("encode", encode_rate, rle_encode, loop_encode, loop_sample),
    ]:
        fast_rate = rate(fast, encodings)
        loop_rate = rate(loop, loop_items, repeat=1 if task == "encode" else 3)
        rows.append(
            {
                "task": task,
                "n_masks": len(encodings),
                "n_masks_loop": len(loop_items),
                "sksteel_masks_per_s": round(fast_rate, 1),
                "loop_masks_per_s": round(loop_rate, 1),
                "speedup": round(fast_rate / loop_rate, 2),
            }
        )
    table = pd.DataFrame(rows).set_index("task")
    print(
        f"RLE codec on {len(encodings):,} encodings of {IMAGE_SHAPE} masks ({source})"
    )
    print(f"rle_decode uses the {'compiled (numba)' if compiled else 'numpy'} path")
    print(table.to_string())

    RESULT.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "rle",
        "source": source,
        "mask_shape": list(IMAGE_SHAPE),
        "mean_runs_per_mask": round(
            float(np.mean([len(rle.split()) // 2 for rle in encodings])), 1
        ),
        "reference": {
            "decode": "per-run loop: int() each pair, one slice assignment per run",
            "decode (numpy path)": "the same loop; sksteel without numba",
            "encode": "per-pixel loop over the column-major pixels",
        },
        "rle_decode_path": "compiled (numba)" if compiled else "numpy",
        "results": rows,
        "versions": {
            "sksteel": sksteel.__version__,
            "numpy": np.__version__,
            "numba": _numba_version(),
            "python": platform.python_version(),
        },
    }
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
