"""Tests of the ``sksteel`` command line (``sksteel reproduce``)."""

import base64
import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout

import pytest

from sksteel.cli import main

#: A reduced data set for the quick run: the same command, fewer rows.
SMALL = ["--n-normal", "60", "--n-per-class", "10"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One ``sksteel reproduce --quick`` run on a small data set."""
    out = tmp_path_factory.mktemp("reproduce")
    argv = ["reproduce", "--quick", "--out", str(out), "--n-jobs", "1", *SMALL]
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        status = main(argv)
    return status, out, stdout.getvalue(), stderr.getvalue(), argv


def test_cli_reproduce_quick_writes_every_output(quick_run):
    """Check the exit status and that the report, results and every figure
    are written."""
    status, out, *_ = quick_run
    assert status == 0
    for name in ("report.md", "report.html", "results.json"):
        assert (out / name).stat().st_size > 0
    figures = sorted(p.stem for p in (out / "figures").glob("*.png"))
    assert figures == [
        "ablation", "attribution_heatmap", "confusion_matrix", "correlation_matrix",
        "dataset_composition", "robustness_curves", "training_curves",
    ]


def test_cli_reproduce_report_numbers_come_from_results(quick_run):
    """Check that results.json holds the run's numbers and that the report
    shows them, with the command that produced it and the paper's column."""
    _, out, stdout, _, argv = quick_run
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["command"] == "sksteel " + " ".join(argv)
    summary = {row["model"]: row for row in results["table1"]["summary"]}
    assert set(summary) == {
        "SteelNet", "SteelNet (paper)", "majority", "LDA", "logistic regression",
        "HistGradientBoosting", "RandomForest", "MLP",
        "ceiling: HGB on 10x rows (reference)",
    }
    assert summary["majority"]["balanced_accuracy_mean"] == pytest.approx(0.2)
    report = (out / "report.md").read_text()
    assert "sksteel " + " ".join(argv) in report
    # "SteelNet" is sksteel's defaults; the paper's column sits beside the
    # paper's configuration
    defaults = summary["SteelNet"]["accuracy_mean"]
    assert f"| SteelNet (sksteel defaults) | {defaults:.3f} | — |" in report
    paper = summary["SteelNet (paper)"]["accuracy_mean"]
    assert f"| SteelNet (paper) | {paper:.3f} | 0.892 |" in report
    assert re.search(r"\| majority \| [0-9.]+ \| — \|", report)
    assert f"{summary['SteelNet']['accuracy_mean']:.3f}" in stdout


def test_cli_reproduce_html_is_self_contained(quick_run):
    """Check that report.html embeds every figure as a base64 PNG and links
    no other file."""
    _, out, *_ = quick_run
    page = (out / "report.html").read_text()
    images = re.findall(r'src="([^"]+)"', page)
    assert len(images) == 7
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:4] == b"\x89PNG"
    assert "href=" not in page


def test_cli_reproduce_reports_progress(quick_run):
    """Check that the stages are announced on stderr, in order."""
    _, _, _, stderr, _ = quick_run
    stages = re.findall(r"^\[(\d)/8\]", stderr, flags=re.MULTILINE)
    assert stages == [str(i) for i in range(1, 9)]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["reproduce", "--seeds", "0"], "must be a positive integer"),
        (["reproduce", "--intensity", "pixels"], "invalid choice"),
        (["unknown"], "invalid choice"),
    ],
)
def test_cli_rejects_bad_arguments(argv, message, capsys):
    """Check that bad arguments exit with status 2 and say why."""
    with pytest.raises(SystemExit) as error:
        main(argv)
    assert error.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_without_command_prints_usage(capsys):
    """Check that ``sksteel`` alone prints the usage and returns 2."""
    assert main([]) == 2
    assert "usage: sksteel" in capsys.readouterr().out
