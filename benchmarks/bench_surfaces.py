"""Benchmark: how fast make_steel_surfaces draws masks and renders images.

Times, in a temporary data home and with fixed seeds:

- masks only (draw, run-length encode, write train.csv) for 7,000 images,
  the size the SteelNet data set builder needs; target under 20 s;
- rendering (masks plus 1600 x 256 JPEGs) for 1,000 images; target 60 s.

Both run with the default ``defect_free_fraction=0.5``, more defects than
the data set builder asks for. As the in-process reference, reading the
7,000-image table back with ``load_severstal`` is timed too.

Prints a table and writes ``benchmarks/results/bench_surfaces.json``.
"""

import json
import os
import platform
import tempfile
import time
from pathlib import Path

from sksteel.datasets import load_severstal, make_steel_surfaces

RESULTS = Path(__file__).resolve().parent / "results" / "bench_surfaces.json"
CASES = [
    # name, n_images, render, target seconds
    ("masks only", 7_000, False, 20.0),
    ("rendered", 1_000, True, 60.0),
]


def timed(function, *args, **kwargs):
    """Result, wall-clock seconds and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main():
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_surfaces_") as data_home:
        for name, n_images, render, target in CASES:
            root, seconds, cpu_seconds = timed(
                make_steel_surfaces,
                n_images,
                data_home=data_home,
                render=render,
                random_state=0,
            )
            n_defective = int(
                load_severstal(root, missing_images="ignore").frame["has_defect"].sum()
            )
            rows.append(
                {
                    "case": name,
                    "n_images": n_images,
                    "n_defective": n_defective,
                    "seconds": round(seconds, 2),
                    "cpu_seconds": round(cpu_seconds, 2),
                    "images_per_second": round(n_images / seconds, 1),
                    "target_seconds": target,
                    "target_met": seconds < target,
                }
            )
            if not render:
                _, load_seconds, _ = timed(
                    load_severstal, root, missing_images="ignore"
                )
                reference = {
                    "case": f"load_severstal of the {n_images:,}-image table",
                    "seconds": round(load_seconds, 3),
                    "masks_only_over_load": round(seconds / load_seconds, 1),
                }

    print(
        f"{'case':<12} {'images':>7} {'defective':>9} {'seconds':>8} "
        f"{'cpu s':>7} {'images/s':>9} {'target':>7} {'met':>4}"
    )
    for row in rows:
        print(
            f"{row['case']:<12} {row['n_images']:>7,} {row['n_defective']:>9,} "
            f"{row['seconds']:>8.2f} {row['cpu_seconds']:>7.2f} "
            f"{row['images_per_second']:>9.1f} {row['target_seconds']:>6.0f}s "
            f"{'yes' if row['target_met'] else 'NO':>4}"
        )
    print(
        f"reference: {reference['case']} takes {reference['seconds']:.3f} s "
        f"(masks only = {reference['masks_only_over_load']}x that)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    RESULTS.write_text(
        json.dumps(
            {"cases": rows, "reference": reference, "machine": machine}, indent=2
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
