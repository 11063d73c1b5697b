"""Throughput and memory of ``sksteel.vision.DefectFractionRegressor``.

Three measurements at the default ``image_size`` and ``batch_size``:

- inference: images per second of the full estimator (``predict`` on image
  paths: checks, lazy JPEG reading, resizing, batching) against the bare
  torchvision ResNet-34 (one-channel ``conv1``, 4 outputs) running the same
  batches already loaded in memory, in the same process. Target: the
  estimator keeps at least 80 % of the bare model's throughput;
- memory: peak resident memory of ``predict`` on 2,000 generated images
  against 200, each in a fresh subprocess so the peaks are separate.
  Target: at most 1.3 times;
- training: images per second of ``fit`` (one epoch, no validation).

Prints a table and writes ``benchmarks/results/bench_vision.json``. Images
come from ``make_steel_surfaces`` (cached under ``SKSTEEL_DATA``).

Usage::

    python benchmarks/bench_vision.py [--n-inference 256] [--n-train 128]
"""

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import torchvision
from _environment import machine, versions

from sksteel.datasets import load_severstal, make_steel_surfaces
from sksteel.vision import DefectFractionRegressor
from sksteel.vision._data import read_image

HERE = Path(__file__).resolve().parent
RESULT = HERE / "results" / "bench_vision.json"
SEED = 0


def bare_resnet34():
    """torchvision's ResNet-34 with the estimator's input and output sizes."""
    model = torchvision.models.resnet34(weights=None, num_classes=4)
    model.conv1 = torch.nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return model.eval()


def seconds(run):
    """Wall-clock seconds of one call of ``run()``."""
    tic = time.perf_counter()
    run()
    return time.perf_counter() - tic


def inference(model, paths, repeat):
    """Estimator against bare model on the same images, best of `repeat` each."""
    size = model.batch_size
    batches = [
        torch.stack(
            [read_image(path, model.image_size_) for path in paths[i : i + size]]
        )
        for i in range(0, len(paths), size)
    ]
    bare = bare_resnet34()

    def run_bare():
        with torch.inference_mode():
            for batch in batches:
                bare(batch)

    model.predict(paths[:size])  # warm up both
    run_bare()
    estimator_times, bare_times = [], []
    for _ in range(repeat):  # alternate, so that load changes hit both alike
        estimator_times.append(seconds(lambda: model.predict(paths)))
        bare_times.append(seconds(run_bare))
    estimator_rate = len(paths) / min(estimator_times)
    bare_rate = len(paths) / min(bare_times)
    return {
        "n_images": len(paths),
        "estimator_images_per_s": round(estimator_rate, 2),
        "bare_model_images_per_s": round(bare_rate, 2),
        "ratio": round(estimator_rate / bare_rate, 3),
        "target_ratio": 0.8,
        "target_met": bool(estimator_rate / bare_rate >= 0.8),
    }


def peak_memory(model_file, paths_file, n_images):
    """Peak RSS of predicting the first ``n_images`` in a fresh process."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", model_file, paths_file, str(n_images)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def child(model_file, paths_file, n_images):
    """Subprocess: load the model, predict, report memory in MB as JSON."""
    with open(model_file, "rb") as file:
        model = pickle.load(file)
    paths = Path(paths_file).read_text().split("\n")[:n_images]
    before = proc_status_mb("VmRSS")
    predicted = model.predict(paths)
    assert predicted.shape == (n_images, 4) and predicted.notna().all().all()
    peak = proc_status_mb("VmHWM")
    print(json.dumps({"rss_before_predict_mb": before, "peak_rss_mb": peak}))


def proc_status_mb(field):
    """A memory field of /proc/self/status, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory(model, paths, n_small, n_large):
    """Peak memory of predicting `n_small` and `n_large` images."""
    with tempfile.TemporaryDirectory() as tmp:
        model_file, paths_file = f"{tmp}/model.pkl", f"{tmp}/paths.txt"
        with open(model_file, "wb") as file:
            pickle.dump(model, file)
        Path(paths_file).write_text("\n".join(paths))
        small = peak_memory(model_file, paths_file, n_small)
        large = peak_memory(model_file, paths_file, n_large)
    ratio = large["peak_rss_mb"] / small["peak_rss_mb"]
    growth = [r["peak_rss_mb"] - r["rss_before_predict_mb"] for r in (small, large)]
    return {
        "n_images": [n_small, n_large],
        "peak_rss_mb": [small["peak_rss_mb"], large["peak_rss_mb"]],
        "rss_before_predict_mb": [
            small["rss_before_predict_mb"],
            large["rss_before_predict_mb"],
        ],
        "peak_growth_during_predict_mb": [round(g, 1) for g in growth],
        "ratio": round(ratio, 3),
        "target_ratio": 1.3,
        "target_met": bool(ratio <= 1.3),
    }


def training(frame, n_images):
    """Images per second of one training epoch at the default image size."""
    model = DefectFractionRegressor(
        max_epochs=1, early_stopping=False, random_state=SEED, verbose=0
    )
    tic = time.perf_counter()
    model.fit(frame.iloc[:n_images])
    seconds = time.perf_counter() - tic
    epoch = model.net_.history[-1, "dur"]
    return {
        "n_images": n_images,
        "fit_images_per_s": round(n_images / seconds, 2),
        "epoch_images_per_s": round(n_images / epoch, 2),
    }, model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-inference", type=int, default=256)
    parser.add_argument("--n-train", type=int, default=128)
    parser.add_argument("--n-small", type=int, default=200)
    parser.add_argument("--n-large", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child[0], args.child[1], int(args.child[2]))

    n_small, n_large = args.n_small, args.n_large
    root = make_steel_surfaces(n_images=n_large, random_state=SEED)
    frame = load_severstal(root).frame
    paths = frame["image_path"].tolist()
    train, model = training(frame, args.n_train)
    infer = inference(model, paths[: args.n_inference], args.repeat)
    mem = memory(model, paths, n_small, n_large)

    defaults = DefectFractionRegressor()
    table = pd.DataFrame(
        [
            ("inference, estimator (images/s)", infer["estimator_images_per_s"]),
            ("inference, bare ResNet-34 (images/s)", infer["bare_model_images_per_s"]),
            ("inference ratio (target >= 0.8)", infer["ratio"]),
            (f"peak RSS, {n_small} images (MB)", mem["peak_rss_mb"][0]),
            (f"peak RSS, {n_large} images (MB)", mem["peak_rss_mb"][1]),
            ("peak RSS ratio (target <= 1.3)", mem["ratio"]),
            ("training, one epoch (images/s)", train["epoch_images_per_s"]),
        ],
        columns=["measure", "value"],
    ).set_index("measure")
    print(
        f"DefectFractionRegressor (resnet34, image_size={defaults.image_size}, "
        f"batch_size={defaults.batch_size}, {torch.get_num_threads()} torch threads)"
    )
    print(table.to_string())

    result = {
        "benchmark": "vision",
        "settings": {
            "backbone": defaults.backbone,
            "image_size": list(defaults.image_size),
            "batch_size": defaults.batch_size,
            "num_workers": defaults.num_workers,
            "torch_threads": torch.get_num_threads(),
            "images": f"make_steel_surfaces(n_images={n_large}, random_state={SEED})",
        },
        "inference": infer,
        "memory": mem,
        "training": train,
        "machine": machine(),
        "versions": versions("torch", "torchvision"),
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
