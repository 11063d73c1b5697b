"""Benchmark: ``DefectSegmenter`` at its defaults on the built-in surfaces.

With fixed seeds, in a temporary data home:

- train at the defaults on ``--n-train`` generated surfaces
  (``random_state=0``), timed;
- tune the per-class threshold and minimum area on ``--n-valid`` other
  fresh surfaces (``random_state=2``), and report both settings;
- evaluate on ``--n-test`` fresh surfaces (``random_state=1``): per class
  the Dice (mean over images, 1 when both masks are empty), the Pearson
  correlation of predicted and true fraction, and the image-level presence
  F1; overall the Spearman correlation of the intensity (``sum_c w_c f_c``
  over the defective images) with the mask-based one;
- inference images per second, against the bare smp model's forward pass
  on the same batches (images already in memory);
- peak memory (max RSS, in a fresh subprocess each) of predicting the
  fractions of ``--memory-images`` images;
- the labelled real images in ``/work/shared/data/severstal`` (if present):
  Dice per class.

Prints a table and writes ``benchmarks/results/bench_segmentation.json``.

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_segmentation.py \\
        [--n-train 1000] [--n-test 300] [--max-epochs 6] \\
        [--memory-images 200 2000] [--n-real 200]
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _environment import machine, versions
from scipy import stats
from sklearn.metrics import f1_score

from sksteel.datasets import FRACTION_COLUMNS, load_severstal, make_steel_surfaces
from sksteel.io import save_model
from sksteel.preprocessing import RLEDecoder, rle_decode
from sksteel.vision import DefectSegmenter

RESULTS = Path(__file__).resolve().parent / "results" / "bench_segmentation.json"
REAL = Path("/work/shared/data/severstal")
WEIGHTS = np.array([1.0, 1.5, 2.0, 1.2])


def timed(function, *args, **kwargs):
    """Result and wall-clock seconds of one call."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def surfaces(n_images, seed, home):
    root = make_steel_surfaces(
        n_images=n_images, random_state=seed, data_home=home / f"s{seed}"
    )
    return load_severstal(root).frame


def agreement(model, frame):
    """Per class Dice, fraction Pearson and presence F1; intensity Spearman."""
    true = np.asarray(RLEDecoder().fit_transform(frame), dtype=np.float64)
    (predicted, dice), seconds = timed(masks_and_dice, model, frame)
    rows = {}
    for c, name in enumerate(FRACTION_COLUMNS):
        rows[name] = {
            "dice": float(dice[:, c].mean()),
            "pearson": float(stats.pearsonr(predicted[:, c], true[:, c])[0])
            if true[:, c].std() > 0 and predicted[:, c].std() > 0
            else float("nan"),
            "presence_f1": float(f1_score(true[:, c] > 0, predicted[:, c] > 0)),
        }
    defective = true.sum(axis=1) > 0
    spearman = stats.spearmanr(
        predicted[defective] @ WEIGHTS, true[defective] @ WEIGHTS
    )
    return rows, float(spearman[0]), seconds


def masks_and_dice(model, frame):
    """Predicted fractions and per-image Dice, from one pass of predict_masks."""
    encodings = frame[[f"EncodedPixels_{c}" for c in range(1, 5)]].to_numpy()
    fractions, dice, start = [], [], 0
    for masks in model.predict_masks(frame):
        stop = start + len(masks)
        truth = np.stack(
            [np.stack([rle_decode(r) for r in row]) for row in encodings[start:stop]]
        )
        fractions.append(masks.mean(axis=(2, 3)))
        intersection = (masks & truth).sum(axis=(2, 3))
        total = masks.sum(axis=(2, 3)) + truth.sum(axis=(2, 3))
        dice.append(np.where(total == 0, 1.0, 2 * intersection / np.maximum(total, 1)))
        start = stop
    return np.concatenate(fractions), np.concatenate(dice)


def bare_speed(model, frame, n_batches=5):
    """Images per second of the segmenter's predict_masks and of the bare smp
    forward pass, on the same images."""
    subset = frame.iloc[: n_batches * model.batch_size]
    _, seconds = timed(lambda: [None for _ in model.predict_masks(subset)])
    from sksteel.vision._data import ImageDataset

    loader = torch.utils.data.DataLoader(
        ImageDataset(subset["image_path"].to_numpy(), image_size=model.image_size_),
        batch_size=model.batch_size,
    )
    batches = [images for images, _ in loader]
    module = model.net_.module_.eval()
    with torch.inference_mode():
        _, bare = timed(lambda: [module(images) for images in batches])
    return len(subset) / seconds, len(subset) / bare


def peak_memory(model_file, frame_file, n_images):
    """Max RSS (MiB) of a fresh process predicting `n_images` fractions."""
    code = (
        "import resource, pandas as pd, torch; torch.set_num_threads(1)\n"
        "from sksteel.io import load_model\n"
        "from sksteel.vision import DefectSegmenter\n"
        f"m = load_model({str(model_file)!r}, trusted=[DefectSegmenter])\n"
        f"f = pd.read_pickle({str(frame_file)!r})\n"
        f"f = f.iloc[[i % len(f) for i in range({n_images})]].reset_index(drop=True)\n"
        "m.set_params(verbose=0).predict_fractions(f)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return int(out.stdout.split()[-1]) / 1024


def real_frame(n_real):
    """Labelled real images (with a mask or listed defect-free), or None."""
    table = REAL / "train_partial_original_layout.csv"
    if not table.is_file() or not (REAL / "train_images").is_dir():
        return None
    frame = load_severstal(
        train_csv=table, image_dir=REAL / "train_images", missing_images="ignore"
    ).frame
    on_disk = frame["image_path"].map(lambda p: Path(p).is_file())
    frame = frame[on_disk.to_numpy()]
    if frame.empty:
        return None
    return frame.sample(min(n_real, len(frame)), random_state=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--n-test", type=int, default=300)
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--memory-images", type=int, nargs="*", default=[200, 2000])
    parser.add_argument("--n-valid", type=int, default=100)
    parser.add_argument("--n-real", type=int, default=200)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp())
    train, test = surfaces(args.n_train, 0, home), surfaces(args.n_test, 1, home)
    params = {"random_state": 0, "verbose": 0}
    if args.max_epochs is not None:
        params["max_epochs"] = args.max_epochs
    model = DefectSegmenter(**params)
    _, train_seconds = timed(model.fit, train)
    # Post-processing tuned on a third set of fresh surfaces (validation).
    tuned = model.tune_postprocessing(surfaces(args.n_valid, 2, home))
    classes, spearman, seconds = agreement(model, test)
    model_tuned = DefectSegmenter(**params)
    model_tuned.__setstate__(model.__getstate__())
    model_tuned.set_params(**tuned)
    classes_tuned, spearman_tuned, _ = agreement(model_tuned, test)
    ours, bare = bare_speed(model, test)
    model_file, frame_file = home / "seg.skops", home / "frame.pkl"
    save_model(model, model_file)
    test.to_pickle(frame_file)
    memory = {n: peak_memory(model_file, frame_file, n) for n in args.memory_images}
    real = real_frame(args.n_real)
    real_dice = None
    if real is not None:
        _, dice = masks_and_dice(model, real)
        real_dice = {
            name: float(np.nanmean(dice[:, c]))
            for c, name in enumerate(FRACTION_COLUMNS)
        }
    result = {
        "n_train": args.n_train,
        "n_test": args.n_test,
        "params": model.get_params(),
        "train_seconds": train_seconds,
        "train_images_per_second": args.n_train * model.n_iter_ / train_seconds,
        "test_seconds": seconds,
        "per_class": classes,
        "intensity_spearman": spearman,
        "tuned_postprocessing": tuned,
        "per_class_tuned": classes_tuned,
        "intensity_spearman_tuned": spearman_tuned,
        "inference_images_per_second": ours,
        "bare_smp_images_per_second": bare,
        "inference_vs_bare": ours / bare,
        "peak_memory_mib": memory,
        "real_images": None if real is None else len(real),
        "real_dice": real_dice,
        "machine": machine(),
        "versions": versions("torch", "segmentation_models_pytorch"),
    }
    print(
        f"trained on {args.n_train} images x {model.n_iter_} epochs in "
        f"{train_seconds:.0f} s ({result['train_images_per_second']:.2f} img/s)"
    )
    print(
        f"{'class':20} {'dice':>6} {'pearson':>8} {'F1':>6} | tuned: "
        f"{'dice':>6} {'pearson':>8} {'F1':>6}"
    )
    for name in FRACTION_COLUMNS:
        a, b = classes[name], classes_tuned[name]
        print(
            f"{name:20} {a['dice']:6.3f} {a['pearson']:8.3f} "
            f"{a['presence_f1']:6.3f} |        {b['dice']:6.3f} "
            f"{b['pearson']:8.3f} {b['presence_f1']:6.3f}"
        )
    print(f"intensity Spearman {spearman:.3f} (tuned {spearman_tuned:.3f})")
    print(
        f"inference {ours:.2f} img/s, bare smp {bare:.2f} img/s, "
        f"ratio {ours / bare:.2f}"
    )
    print("peak memory (MiB):", {n: round(v) for n, v in memory.items()})
    print("real images:", result["real_images"], "Dice:", real_dice)
    params = result["params"]
    result["params"] = {
        k: v if np.isscalar(v) or v is None else list(v) for k, v in params.items()
    }
    RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(
        f"maximum RSS of this process: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    main()
