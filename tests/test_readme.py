"""Tests that the README's Python snippet runs and shows its progress."""

import re
from pathlib import Path

import pytest

from sksteel.models import SteelNetClassifier
from sksteel.models import _progress as progress

README = Path(__file__).resolve().parents[1] / "README.md"

#: Epochs the snippet trains for here, instead of the default.
SHORT_EPOCHS = 2


def _python_snippet():
    """The first ```python block of the README."""
    if not README.exists():
        pytest.skip("README.md is not part of this installation")
    match = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert match, "the README has no ```python block"
    return match.group(1)


def test_readme_snippet_prints_progress(capsys, monkeypatch):
    """Check that the README's snippet runs as written and, with the default
    ``verbose="auto"``, shows a progress bar over the epochs on stderr.

    Two things are shortened, in the open: the classifier's default
    ``max_epochs`` (the snippet does not set it), and the delay before the
    bar appears, so that a two-epoch fit lasts long enough to show it.
    """
    snippet = _python_snippet()
    assert "SteelNetClassifier(" in snippet and "max_epochs" not in snippet
    assert "verbose" not in snippet  # the default is what is tested
    monkeypatch.setitem(
        SteelNetClassifier.__init__.__kwdefaults__, "max_epochs", SHORT_EPOCHS
    )
    monkeypatch.setattr(progress, "PROGRESS_DELAY", 0.0)
    namespace = {"__name__": "readme"}
    exec(compile(snippet, str(README), "exec"), namespace)
    out, err = capsys.readouterr()
    classifier = namespace["model"][-1]
    assert classifier.max_epochs == SHORT_EPOCHS
    assert f"{classifier.n_iter_}/{SHORT_EPOCHS}" in err
    assert "valid_" in err
    assert "epoch" in err
