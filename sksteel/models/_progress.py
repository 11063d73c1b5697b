"""What a torch estimator prints while it trains, by ``verbose``.

- ``"auto"`` (the default): one tqdm bar over the epochs, showing the latest
  validation score, which appears only once training has run for a couple of
  seconds, so short fits stay silent;
- ``0``: nothing;
- ``1``: one plain line per epoch;
- ``2`` or more: skorch's per-epoch table.

Text written to something that is not a terminal carries no ANSI colour
codes.
"""

import re
import sys

from skorch.callbacks import Callback
from tqdm.auto import tqdm

__all__ = ["EpochLines", "EpochProgressBar", "print_plain"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

#: Seconds of training before the default progress bar appears.
PROGRESS_DELAY = 2.0


def print_plain(text):
    """``print`` to stdout, without ANSI colour codes unless it is a terminal."""
    stream = sys.stdout
    if not getattr(stream, "isatty", lambda: False)():
        text = _ANSI.sub("", text)
    print(text, file=stream, flush=True)


def _score_keys(row):
    """The losses and validation scores of a history row, in a stable order."""
    return [
        key
        for key in row
        if (key.endswith("_loss") or key.startswith("valid_"))
        and not key.endswith(("_best", "_count"))
        and isinstance(row[key], (int, float))
    ]


class EpochProgressBar(Callback):
    """A tqdm bar over the epochs showing the latest validation score.

    Parameters
    ----------
    delay : float, default=None
        Seconds of training before the bar appears: a fit shorter than that
        prints nothing. None is ``PROGRESS_DELAY``.
    file : file-like, default=None
        Where the bar goes; None is ``sys.stderr`` at the start of training.
    """

    def __init__(self, delay=None, file=None):
        self.delay = delay
        self.file = file

    def on_train_begin(self, net, **kwargs):
        self.bar_ = tqdm(
            total=net.max_epochs,
            desc=type(net.module_).__name__,
            unit="epoch",
            delay=PROGRESS_DELAY if self.delay is None else self.delay,
            file=self.file if self.file is not None else sys.stderr,
            dynamic_ncols=True,
        )

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        keys = [key for key in _score_keys(row) if key.startswith("valid_")]
        # The monitored score first: the validation metric, else its loss.
        keys.sort(key=lambda key: key == "valid_loss")
        if keys:
            # No refresh here: a refresh would show the bar before `delay`.
            self.bar_.set_postfix(
                {key: f"{row[key]:.4f}" for key in keys[:2]}, refresh=False
            )
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()


class EpochLines(Callback):
    """One plain line per epoch: its losses, validation scores and duration.

    Parameters
    ----------
    sink : callable, default=print_plain
        Where the lines go.
    """

    def __init__(self, sink=print_plain):
        self.sink = sink

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        scores = " ".join(f"{key}={row[key]:.4f}" for key in _score_keys(row))
        self.sink(
            f"epoch {row['epoch']}/{net.max_epochs} {scores} ({row['dur']:.1f} s)"
        )
