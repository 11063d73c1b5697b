"""Benchmark: the cost and the agreement of ``make_steelnet_dataset`` with
``intensity="model"`` against the masks.

With fixed seeds, in a temporary data home, on the built-in surfaces:

- reference: ``make_steelnet_dataset(intensity="masks")`` (masks only);
- rendering the JPEGs of the same surfaces (``make_steel_surfaces`` with the
  parameters the builder recorded in ``params.json``), done once per data
  home;
- ``make_steelnet_dataset(intensity="model")`` with the default image model
  (``DefectFractionRegressor("resnet18", max_epochs=3)``, cross-fitted over
  2 folds), the images already rendered: the image model's training and
  predictions.

Agreement over the defective samples (the defect-free ones keep intensity 0
either way): the Spearman correlation of the two intensities, and the
Pearson correlation of each class's predicted and mask fractions.

Prints a table and writes ``benchmarks/results/bench_model_intensity.json``.

Usage::

    python benchmarks/bench_model_intensity.py [--n-normal 5902] [--n-per-class 200]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from _environment import machine, versions
from scipy import stats

from sksteel.datasets import (
    FRACTION_COLUMNS,
    make_steel_surfaces,
    make_steelnet_dataset,
)

RESULTS = Path(__file__).resolve().parent / "results" / "bench_model_intensity.json"


def timed(function, *args, **kwargs):
    """Result and wall-clock seconds of one call."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def agreement(model_frame, masks_frame):
    """Correlations between the model's and the masks' data sets over the
    defective samples."""
    defective = masks_frame["defect_class"].to_numpy() > 0
    intensity = stats.spearmanr(
        model_frame["intensity"][defective], masks_frame["intensity"][defective]
    ).statistic
    fractions = {
        column: float(
            stats.pearsonr(
                model_frame[column][defective], masks_frame[column][defective]
            ).statistic
        )
        for column in FRACTION_COLUMNS
    }
    return {
        "n_defective": int(defective.sum()),
        "intensity_spearman": float(intensity),
        "fraction_pearson": fractions,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-normal", type=int, default=5902)
    parser.add_argument("--n-per-class", type=int, default=200)
    args = parser.parse_args()
    sizes = dict(n_normal=args.n_normal, n_per_class=args.n_per_class, random_state=0)

    with tempfile.TemporaryDirectory(prefix="bench_model_intensity_") as home:
        masks, masks_seconds = timed(make_steelnet_dataset, data_home=home, **sizes)
        (root,) = Path(home).glob("steel_surfaces_*")
        params = json.loads((root / "params.json").read_text())
        params.pop("generator_version")
        _, render_seconds = timed(
            make_steel_surfaces, data_home=home, render=True, **params
        )
        model, model_seconds = timed(
            make_steelnet_dataset, intensity="model", data_home=home, **sizes
        )

    result = {
        "benchmark": "model_intensity",
        "settings": {
            **sizes,
            "source": "built-in surfaces",
            "fraction_model": model.intensity_source.split(", cross-fitted")[0],
            "fraction_cv": 2,
            "n_rendered_images": params["n_images"],
            "torch_threads": torch.get_num_threads(),
        },
        "seconds": {
            "masks_build (reference)": round(masks_seconds, 1),
            "rendering": round(render_seconds, 1),
            "model_build (images rendered)": round(model_seconds, 1),
        },
        "model_over_masks": round(model_seconds / masks_seconds, 1),
        "agreement": agreement(model.frame, masks.frame),
        "machine": machine(),
        "versions": versions("torch"),
    }
    print(f"{'stage':<32} {'seconds':>9}")
    for stage, seconds in result["seconds"].items():
        print(f"{stage:<32} {seconds:>9.1f}")
    found = result["agreement"]
    print(f"\nintensity Spearman, model vs masks: {found['intensity_spearman']:.3f}")
    for column, r in found["fraction_pearson"].items():
        print(f"{column} Pearson, model vs masks: {r:.3f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
