"""Benchmark: ``DefectSegmenter`` at its defaults on the built-in surfaces.

With fixed seeds, in a temporary data home:

- train at the defaults on ``--n-train`` generated surfaces
  (``random_state=0``), with its wall-clock and CPU seconds;
- tune the per-class threshold and minimum area on ``--n-valid`` other
  fresh surfaces (``random_state=2``), and report both settings;
- evaluate on ``--n-test`` fresh surfaces (``random_state=1``), from one
  pass of ``predict_proba``, at the default and at the tuned
  post-processing: per class the Dice (mean over images, 1 when both masks
  are empty), the Pearson correlation of predicted and true fraction (the
  fraction read from the post-processed mask, ``fraction="mask"``, and from
  the probability map, ``fraction="probability"``), and the image-level
  presence F1; overall the Spearman correlation of the intensity
  (``sum_c w_c f_c`` over the defective images) with the mask-based one;
- inference images per second of ``predict_masks`` against the bare smp
  model's forward pass on the same batches (images already in memory),
  alternating which runs first, ``--speed-repeats`` times each, median;
- peak memory (``VmHWM`` of ``/proc/self/status``, in a fresh subprocess per
  size) of ``predict_fractions`` on ``--memory-images`` images, with the
  trained model, or with ``--memory-model probe``, a small segmenter
  (ResNet-18, 64 x 320 images) trained for one epoch, whose memory grows the
  same way with the number of images and which runs 2,000 images in minutes;
- the labelled real images in ``/work/shared/data/severstal`` (if present):
  Dice per class at the default post-processing.

Prints a table and writes ``benchmarks/results/bench_segmentation.json``.

``--study`` instead trains the variants of ``STUDY`` (loss and encoder /
crop settings) on the same images and seed and compares them
(``bench_segmentation_study.json``); ``--train-speed REPEATS`` only times
training steps per encoder and crop size
(``bench_segmentation_train_speed.json``).

Usage::

    OMP_NUM_THREADS=2 nice -n 5 python benchmarks/bench_segmentation.py \\
        [--n-train 1000] [--n-test 300] [--n-valid 100] [--max-epochs 6] \\
        [--memory-images 200 2000] [--memory-model trained|probe] [--n-real 200]
    python benchmarks/bench_segmentation.py --study --n-train 64 --n-test 60 \\
        --n-valid 40 --max-epochs 3 [--variants NAME ...]
    python benchmarks/bench_segmentation.py --train-speed 3
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _environment import machine, versions
from scipy import stats
from sklearn.metrics import f1_score

from sksteel.datasets import FRACTION_COLUMNS, load_severstal, make_steel_surfaces
from sksteel.io import save_model
from sksteel.preprocessing import rle_decode
from sksteel.vision import DefectSegmenter, postprocess
from sksteel.vision._data import ImageDataset

RESULTS = Path(__file__).resolve().parent / "results" / "bench_segmentation.json"
STUDY_RESULTS = RESULTS.with_name("bench_segmentation_study.json")
#: Variants of ``--study``: parameters on top of the defaults.
STUDY = {
    "batch Dice": {"dice": "batch"},
    "image Dice": {"dice": "image"},
    "ResNet-18, 128 x 128 crops, 2 x epochs": {
        "encoder_name": "resnet18",
        "crop_size": (128, 128),
        "epochs_factor": 2,
    },
}
REAL = Path("/work/shared/data/severstal")
WEIGHTS = np.array([1.0, 1.5, 2.0, 1.2])
ENCODED = [f"EncodedPixels_{c}" for c in range(1, 5)]
#: Target of the training wall time at the defaults on 1,000 images (s).
TRAIN_TARGET_SECONDS = 15 * 60
TRAIN_TARGET_IMAGES = 1000


def timed(function, *args, **kwargs):
    """Result, wall-clock seconds and CPU seconds (all threads) of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start, time.process_time() - cpu


def surfaces(n_images, seed, home):
    root = make_steel_surfaces(
        n_images=n_images, random_state=seed, data_home=home / f"s{seed}"
    )
    return load_severstal(root).frame


def evaluate(model, frame, settings):
    """Per-image Dice and fractions of `frame`, from one probability pass.

    `settings` maps a name to ``(threshold, min_area)``. Returns the true
    fractions, the probability-map fractions, the highest probability of
    each class in each image, and per setting the Dice and mask fractions,
    each ``(n_images, 4)``.
    """
    encodings = frame[ENCODED].to_numpy(dtype=object)
    true, soft, peak = [], [], []
    dice = {name: [] for name in settings}
    hard = {name: [] for name in settings}
    start = 0
    for probs in model.predict_proba(frame):
        stop = start + len(probs)
        truth = np.stack(
            [np.stack([rle_decode(r) for r in row]) for row in encodings[start:stop]]
        )
        true.append(truth.mean(axis=(2, 3)))
        soft.append(probs.mean(axis=(2, 3), dtype=np.float64))
        peak.append(probs.max(axis=(2, 3)))
        for name, (threshold, min_area) in settings.items():
            masks = np.stack([postprocess(p, threshold, min_area) for p in probs])
            hard[name].append(masks.mean(axis=(2, 3)))
            inter = (masks & truth).sum(axis=(2, 3))
            total = masks.sum(axis=(2, 3)) + truth.sum(axis=(2, 3))
            dice[name].append(
                np.where(total == 0, 1.0, 2 * inter / np.maximum(total, 1))
            )
        start = stop
    cat = np.concatenate
    return (
        cat(true),
        cat(soft),
        cat(peak),
        {name: (cat(dice[name]), cat(hard[name])) for name in settings},
    )


def pearson(predicted, true):
    if predicted.std() == 0 or true.std() == 0:
        return float("nan")
    return float(stats.pearsonr(predicted, true)[0])


def spearman(predicted, true):
    defective = true.sum(axis=1) > 0
    return float(
        stats.spearmanr(predicted[defective] @ WEIGHTS, true[defective] @ WEIGHTS)[0]
    )


def agreement(true, soft, dice, hard):
    """Per class Dice, fraction Pearson (mask and probability) and presence F1;
    intensity Spearman (mask and probability)."""
    rows = {
        name: {
            "dice": float(dice[:, c].mean()),
            "pearson_mask": pearson(hard[:, c], true[:, c]),
            "pearson_probability": pearson(soft[:, c], true[:, c]),
            "presence_f1": float(f1_score(true[:, c] > 0, hard[:, c] > 0)),
        }
        for c, name in enumerate(FRACTION_COLUMNS)
    }
    return {
        "per_class": rows,
        "intensity_spearman_mask": spearman(hard, true),
        "intensity_spearman_probability": spearman(soft, true),
    }


def speed(model, frame, n_batches, repeats):
    """Median images per second of the segmenter's predict_masks and of the
    bare smp forward pass, on the same images, alternating the order."""
    subset = frame.iloc[: n_batches * model.batch_size]
    loader = torch.utils.data.DataLoader(
        ImageDataset(subset["image_path"].to_numpy(), image_size=model.image_size_),
        batch_size=model.batch_size,
    )
    batches = [images for images, _ in loader]
    module = model.net_.module_.eval()

    def ours():
        for _ in model.predict_masks(subset):
            pass

    def bare():
        with torch.inference_mode():
            for images in batches:
                module(images)

    runs = {"ours": [], "bare": []}
    for r in range(repeats):
        order = ("ours", "bare") if r % 2 == 0 else ("bare", "ours")
        for name in order:
            _, seconds, _ = timed(ours if name == "ours" else bare)
            runs[name].append(len(subset) / seconds)
    return {name: float(np.median(v)) for name, v in runs.items()}, runs


def peak_memory(model_file, frame_file, n_images):
    """``VmHWM`` (MiB) of a fresh process, after loading the model and after
    predicting the fractions of `n_images` images (the test images, repeated)."""
    code = (
        "import pandas as pd, torch; torch.set_num_threads(1)\n"
        "from sksteel.io import load_model\n"
        "from sksteel.vision import DefectSegmenter\n"
        "def hwm():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1]) / 1024\n"
        f"m = load_model({str(model_file)!r}, trusted=[DefectSegmenter])\n"
        f"f = pd.read_pickle({str(frame_file)!r})\n"
        f"f = f.iloc[[i % len(f) for i in range({n_images})]].reset_index(drop=True)\n"
        "loaded = hwm()\n"
        "m.set_params(verbose=0).predict_fractions(f)\n"
        "print(loaded, hwm())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded, peak = out.stdout.split()[-2:]
    return {"after_load": float(loaded), "peak": float(peak)}


def memory_model(model, train, kind, home):
    """The model whose inference memory is measured, saved to a file."""
    if kind == "probe":
        model = DefectSegmenter(
            "resnet18",
            image_size=(64, 320),
            crop_size=(64, 128),
            max_epochs=1,
            random_state=0,
            verbose=0,
        ).fit(train.iloc[:16])
    path = home / f"{kind}.skops"
    save_model(model, path)
    return path, model.get_params()


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


def _plain(params):
    return {k: v if np.isscalar(v) or v is None else list(v) for k, v in params.items()}


def save(result):
    """Write `result` so far (each phase adds to it, so that a run cut short
    keeps what it measured)."""
    RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")


def paired_interval(a, b):
    """Mean of ``a - b`` over images with a 95 % t interval."""
    diff = np.asarray(a) - np.asarray(b)
    half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
    return [float(diff.mean()), float(diff.mean() - half), float(diff.mean() + half)]


def study(args, train, test, valid):
    """Train each variant of `STUDY` on the same images and seeds; compare the
    highest class probability on images without / with that class, and the
    Dice and fraction Pearson at the tuned post-processing.

    With ``args.variants`` only those run; the others' entries already in
    the results file are kept, and each variant's per-image Dice is stored
    there so that the paired differences cover every variant measured."""
    old = json.loads(STUDY_RESULTS.read_text()) if STUDY_RESULTS.is_file() else {}
    result = {
        "n_train": args.n_train,
        "n_test": args.n_test,
        "n_valid": args.n_valid,
        "max_epochs": args.max_epochs,
        "machine": machine(),
        "variants": {},
    }
    same_run = all(old.get(k) == result[k] for k in ("n_train", "n_test", "n_valid"))
    if args.variants and same_run and old.get("max_epochs") == args.max_epochs:
        result["variants"] = {
            k: v for k, v in old["variants"].items() if k not in args.variants
        }
    for name, extra in STUDY.items():
        if args.variants and name not in args.variants:
            continue
        params = {"random_state": 0, "verbose": 0, **extra}
        factor = params.pop("epochs_factor", 1)
        if args.max_epochs is not None:
            params["max_epochs"] = args.max_epochs * factor
        model = DefectSegmenter(**params)
        _, seconds, _ = timed(model.fit, train)
        tuned = model.tune_postprocessing(valid)
        setting = {
            "tuned": (np.asarray(tuned["threshold"]), np.asarray(tuned["min_area"]))
        }
        true, soft, peak, scored = evaluate(model, test, setting)
        present = true > 0
        row = {
            "params": extra,
            "train_seconds": seconds,
            "train_images_per_second": len(train) * model.n_iter_ / seconds,
            "max_probability_absent": [
                float(peak[~present[:, c], c].mean()) for c in range(4)
            ],
            "max_probability_present": [
                float(peak[present[:, c], c].mean()) for c in range(4)
            ],
            "tuned_postprocessing": tuned,
            **agreement(true, soft, *scored["tuned"]),
        }
        row["dice_per_image"] = scored["tuned"][0].mean(axis=1).tolist()
        result["variants"][name] = row
        classes = row["per_class"].values()
        STUDY_RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(
            f"{name}: {seconds:.0f} s; max probability absent "
            f"{np.round(row['max_probability_absent'], 2).tolist()} present "
            f"{np.round(row['max_probability_present'], 2).tolist()}; Dice "
            f"{[round(r['dice'], 3) for r in classes]}; "
            f"Pearson {[round(r['pearson_mask'], 3) for r in classes]}"
            f"; Spearman {row['intensity_spearman_mask']:.3f}; tuned {tuned}",
            flush=True,
        )
    reference = next(iter(STUDY))
    dice_of = {
        k: v["dice_per_image"]
        for k, v in result["variants"].items()
        if "dice_per_image" in v
    }
    result["dice_minus_reference"] = {
        name: old["dice_minus_reference"][name]  # kept from the earlier run
        for name in result["variants"]
        if name not in dice_of and name in old.get("dice_minus_reference", {})
    }
    result["dice_minus_reference"].update(
        {
            name: paired_interval(dice, dice_of[reference])
            for name, dice in dice_of.items()
            if name != reference and reference in dice_of
        }
    )
    STUDY_RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print("mean Dice per image minus", reference, "(mean, 95 % interval):")
    print(json.dumps(result["dice_minus_reference"], indent=1))


#: Encoder and crop size pairs of ``--train-speed``.
SPEED_CONFIGS = [
    ("resnet34", (128, 256)),
    ("resnet18", (128, 256)),
    ("resnet34", (128, 128)),
    ("resnet18", (128, 128)),
]


def train_speed(repeats, batch_size=8, steps=3):
    """Median training crops per second of each of `SPEED_CONFIGS` (forward,
    loss, backward and AdamW step on random batches), the configurations
    taking turns, so that load changes hit them alike."""
    from sksteel.vision._training import DiceBCELoss, build_segmentation_net

    generator = torch.Generator().manual_seed(0)
    setups = []
    for encoder, crop in SPEED_CONFIGS:
        net = build_segmentation_net("unet", encoder)
        images = torch.randn(batch_size, 1, *crop, generator=generator)
        masks = (torch.rand(batch_size, 4, *crop, generator=generator) > 0.99).float()
        setups.append((net, torch.optim.AdamW(net.parameters()), images, masks))
    loss = DiceBCELoss()
    runs = [[] for _ in setups]
    for r in range(repeats + 1):  # the first round warms up
        for i, (net, optimizer, images, masks) in enumerate(setups):
            start = time.perf_counter()
            for _ in range(steps):
                optimizer.zero_grad()
                loss(net(images), masks).backward()
                optimizer.step()
            if r:
                runs[i].append(steps * batch_size / (time.perf_counter() - start))
    return [
        {
            "encoder_name": encoder,
            "crop_size": list(crop),
            "crops_per_second": float(np.median(run)),
            "runs": run,
        }
        for (encoder, crop), run in zip(SPEED_CONFIGS, runs)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--n-test", type=int, default=300)
    parser.add_argument("--n-valid", type=int, default=100)
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--memory-images", type=int, nargs="*", default=[200, 2000])
    parser.add_argument(
        "--memory-model", choices=["trained", "probe"], default="trained"
    )
    parser.add_argument("--speed-batches", type=int, default=4)
    parser.add_argument("--speed-repeats", type=int, default=4)
    parser.add_argument("--n-real", type=int, default=200)
    parser.add_argument(
        "--study",
        action="store_true",
        help="compare the loss and crop variants of STUDY instead; writes "
        "bench_segmentation_study.json",
    )
    parser.add_argument(
        "--train-speed",
        type=int,
        metavar="REPEATS",
        help="only time training steps of the encoder / crop pairs of "
        "SPEED_CONFIGS; writes bench_segmentation_train_speed.json",
    )
    parser.add_argument(
        "--variants", nargs="*", help="with --study: run only these variants"
    )
    args = parser.parse_args()
    if args.train_speed:
        rows = train_speed(args.train_speed)
        print(pd.DataFrame(rows).drop(columns="runs").round(2).to_string(index=False))
        RESULTS.with_name("bench_segmentation_train_speed.json").write_text(
            json.dumps({"machine": machine(), "configs": rows}, indent=2) + "\n"
        )
        return
    home = Path(tempfile.mkdtemp())
    train, test = surfaces(args.n_train, 0, home), surfaces(args.n_test, 1, home)
    valid = surfaces(args.n_valid, 2, home)
    if args.study:
        study(args, train, test, valid)
        return
    params = {"random_state": 0, "verbose": 0}
    if args.max_epochs is not None:
        params["max_epochs"] = args.max_epochs
    model = DefectSegmenter(**params)
    _, train_seconds, train_cpu = timed(model.fit, train)
    crops_per_second = args.n_train * model.n_iter_ / train_seconds
    result = {
        "complete": False,
        "n_train": args.n_train,
        "n_test": args.n_test,
        "n_valid": args.n_valid,
        "params": _plain(model.get_params()),
        "train_seconds": train_seconds,
        "train_cpu_seconds": train_cpu,
        "train_images_per_second": crops_per_second,
        "train_seconds_for_1000_images_estimated": TRAIN_TARGET_IMAGES
        * model.n_iter_
        / crops_per_second,
        "train_target_seconds": TRAIN_TARGET_SECONDS,
        "machine": machine(),
        "versions": versions("torch", "segmentation_models_pytorch"),
    }
    save(result)
    print(
        f"trained on {args.n_train} images x {model.n_iter_} epochs in "
        f"{train_seconds:.0f} s, {train_cpu:.0f} CPU s ({crops_per_second:.2f} "
        f"img/s; 1,000 images: about "
        f"{result['train_seconds_for_1000_images_estimated']:.0f} s, "
        f"target {TRAIN_TARGET_SECONDS} s)",
        flush=True,
    )

    tuned, result["tune_seconds"], _ = timed(model.tune_postprocessing, valid)
    result["tuned_postprocessing"] = tuned
    settings = {
        name: (np.broadcast_to(threshold, 4), np.broadcast_to(min_area, 4))
        for name, threshold, min_area in [
            ("default", model.threshold, model.min_area),
            ("tuned", tuned["threshold"], tuned["min_area"]),
        ]
    }
    (true, soft, _, scored), test_seconds, _ = timed(evaluate, model, test, settings)
    result["test_seconds"] = test_seconds
    result["test_images_per_second"] = args.n_test / test_seconds
    table = []
    for setting in settings:
        result[setting] = agreement(true, soft, *scored[setting])
        for name, row in result[setting]["per_class"].items():
            table.append({"post-processing": setting, "class": name, **row})
    save(result)
    print(pd.DataFrame(table).round(3).to_string(index=False))
    for setting in settings:
        r = result[setting]
        print(
            f"intensity Spearman ({setting}): mask {r['intensity_spearman_mask']:.3f}, "
            f"probability {r['intensity_spearman_probability']:.3f}"
        )
    print("tuned:", tuned, flush=True)

    real = real_frame(args.n_real)
    result["real_images"], result["real_dice"] = None, None
    if real is not None:
        *_, real_scored = evaluate(model, real, {"default": settings["default"]})
        dice = real_scored["default"][0]
        result["real_images"] = len(real)
        result["real_dice"] = {
            name: float(dice[:, c].mean()) for c, name in enumerate(FRACTION_COLUMNS)
        }
        result["real_defective_images_per_class"] = [
            int(real[col].notna().sum()) for col in ENCODED
        ]
    save(result)
    print("real images:", result["real_images"], "Dice:", result["real_dice"])

    medians, result["speed_runs"] = speed(
        model, test, args.speed_batches, args.speed_repeats
    )
    result["inference_images_per_second"] = medians["ours"]
    result["bare_smp_images_per_second"] = medians["bare"]
    result["inference_vs_bare"] = medians["ours"] / medians["bare"]
    save(result)
    print(
        f"inference {medians['ours']:.2f} img/s, bare smp {medians['bare']:.2f} "
        f"img/s, ratio {result['inference_vs_bare']:.2f}",
        flush=True,
    )

    memory_file, memory_params = memory_model(model, train, args.memory_model, home)
    frame_file = home / "frame.pkl"
    test.to_pickle(frame_file)
    result["memory_model"] = args.memory_model
    result["memory_model_params"] = _plain(memory_params)
    result["memory_mib"] = {}
    for n in args.memory_images:
        result["memory_mib"][str(n)] = peak_memory(memory_file, frame_file, n)
        save(result)
    print(f"memory ({args.memory_model} model), MiB:", result["memory_mib"])
    result["complete"] = True
    save(result)


if __name__ == "__main__":
    main()
