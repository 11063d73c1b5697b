"""The ``sksteel`` command. It parses arguments, calls the public Python API
and formats what it returns; everything it does is reachable from Python.

Subcommands:

- ``sksteel reproduce``: every experiment of the paper on the built-in data
  (or a Kaggle Severstal directory), written as a report
  (:func:`sksteel.experiments.reproduce`).
"""

import argparse
import shlex
import sys

from . import __version__
from .exceptions import DataFormatError

__all__ = ["main"]


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return value


def _add_reproduce(subparsers):
    parser = subparsers.add_parser(
        "reproduce",
        help="rebuild the paper's experiments and write a report",
        description=(
            "Build the SteelNet data set, train SteelNet and the baselines on "
            "identical splits and seeds, and report Table 1, the attributions, "
            "robustness to failing sensors, the ablation and timings as mean "
            "+- sd over seeds, beside the paper's numbers. Writes results.json, "
            "report.md, report.html and figures/ under --out."
        ),
    )
    parser.add_argument(
        "--data", metavar="PATH", default=None,
        help="a Kaggle-format Severstal directory (train.csv, train_images/) "
        "or a train.csv file; default: the built-in synthetic surfaces",
    )
    parser.add_argument(
        "--out", metavar="DIR", default="sksteel-reproduce",
        help="output directory (default: %(default)s)",
    )
    parser.add_argument(
        "--seeds", metavar="N", type=_positive_int, default=3,
        help="number of seeds; scores are mean +- sd over them (default: 3)",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="one seed, few epochs, small ensembles: checks that everything "
        "runs (about 2 minutes); not a result",
    )
    parser.add_argument(
        "--intensity", choices=("masks", "model"), default="masks",
        help="defect intensity from the masks or from the image model "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--n-jobs", type=int, default=-1,
        help="processes for fitting and scoring; -1 uses every core "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="do not print the running stage"
    )
    parser.add_argument(
        "--n-normal", metavar="N", type=_positive_int, default=5902,
        help="defect-free samples in the data set (default: %(default)s, the "
        "paper's); lower it for a directory with fewer images",
    )
    parser.add_argument(
        "--n-per-class", metavar="N", type=_positive_int, default=200,
        help="samples per defect class (default: %(default)s, the paper's)",
    )
    parser.set_defaults(handler=_reproduce)


def _reproduce(args, argv):
    from .experiments import headline_table, reproduce

    results = reproduce(
        args.data,
        args.out,
        seeds=args.seeds,
        quick=args.quick,
        intensity=args.intensity,
        n_normal=args.n_normal,
        n_per_class=args.n_per_class,
        n_jobs=args.n_jobs,
        progress=not args.quiet,
        command=shlex.join(["sksteel", *argv]),
    )
    table = headline_table(results)
    print(table.to_string(index=False))
    print(f"\nReport: {args.out}/report.md, {args.out}/report.html")
    return 0


def _parser():
    parser = argparse.ArgumentParser(
        prog="sksteel",
        description="SteelNet, scikit-learn style: learning defects and sensor "
        "attributions from failing process sensors.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_reproduce(subparsers)
    return parser


def main(argv=None):
    """Run the ``sksteel`` command.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; by default ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 when the data or a setting cannot be used, 2 on a
        usage error, 130 when interrupted.

    Examples
    --------
    >>> from sksteel.cli import main
    >>> main([])  # doctest: +ELLIPSIS
    usage: sksteel ...
    2
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_usage(sys.stdout)
        return 2
    try:
        return args.handler(args, argv)
    except (DataFormatError, ValueError) as error:
        # the data or a setting cannot be used: say why, without a traceback
        print(f"sksteel: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "\nInterrupted. The data set is cached: running the same command "
            "again starts from the models.",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
