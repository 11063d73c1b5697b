"""Tests of the generated parts of the documentation (docs/_ext/sksteel_docs.py).

They call the page generators directly; Sphinx is neither needed nor run.
"""

import importlib
import importlib.util
import json
import re
import tempfile
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "sksteel_docs", DOCS / "_ext" / "sksteel_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docs = _load_generator()


@pytest.fixture(scope="module")
def pages():
    return docs.api_pages()


def _every_public_name():
    return [
        (module, name)
        for module in docs.public_modules()
        for name in importlib.import_module(module).__all__
    ]


def test_public_modules_cover_every_subpackage():
    """Check that every public subpackage of sksteel gets an API page."""
    package = Path(importlib.import_module("sksteel").__file__).parent
    subpackages = {
        f"sksteel.{path.parent.name}"
        for path in package.glob("*/__init__.py")
        if not path.parent.name.startswith("_")
    }
    assert subpackages <= set(docs.public_modules())
    assert "sksteel.exceptions" in docs.public_modules()


@pytest.mark.parametrize("module, name", _every_public_name())
def test_api_reference_documents_public_name(pages, module, name):
    """Check that each public name has its page, listed on its module's page,
    with the directive that documents it."""
    page = pages.get(f"api/generated/{module}.{name}.rst")
    assert page is not None, f"{module}.{name} has no API page"
    obj = getattr(importlib.import_module(module), name)
    directive = {"class": "autoclass", "function": "autofunction", "data": "data"}[
        docs.object_kind(obj)
    ]
    assert re.search(rf"^\.\. {directive}:: {re.escape(name)}$", page, re.MULTILINE)
    assert f".. currentmodule:: {module}" in page
    assert f"   generated/{module}.{name}\n" in pages[f"api/{module}.rst"]


@pytest.mark.parametrize("module, name", _every_public_name())
def test_public_name_has_examples(module, name):
    """Check that each public function and class has a docstring with an
    Examples section, and each constant a ``#:`` documentation comment."""
    problem = docs.undocumented_reason(module, name)
    assert problem is None, f"{module}.{name}: {problem}"


def test_api_pages_have_no_stale_names(pages):
    """Check that the generator writes pages for public names only."""
    expected = {f"api/generated/{m}.{n}.rst" for m, n in _every_public_name()}
    generated = {path for path in pages if path.startswith("api/generated/")}
    assert generated == expected


@pytest.mark.parametrize(
    "doc, expected",
    [
        ("Summary.\n\nExamples\n--------\n>>> 1 + 1\n2\n", True),
        ("Summary.\n\n    Examples\n    --------\n    >>> 1\n    1\n", True),
        ("Summary.\n\nExamples \n---\n>>> 1\n1\n", True),
        ("Summary.\n\nExamples\n--------\n", False),
        ("Summary.\n\nNotes\n-----\nSee the examples.\n", False),
        (None, False),
    ],
)
def test_has_examples_reads_numpydoc_sections(doc, expected):
    """Check that only a non-empty Examples section counts."""
    assert docs.has_examples(doc) is expected


def test_data_comment_follows_reexports():
    """Check that a constant's ``#:`` comment is found through the
    subpackage that re-exports it."""
    comment = docs.data_comment("sksteel.datasets", "SENSORS")
    assert comment.startswith("The ten process sensors")
    assert docs.data_comment("sksteel.datasets", "load_severstal") == ""


def test_sensor_table_rst_follows_schema():
    """Check that the rendered sensor table has one row per sensor, in the
    schema's order, with its unit, range and failure probability."""
    from sksteel._schema import SENSORS

    text = docs.sensor_table_rst()
    names = re.findall(r"^   \* - ``(\w+)``$", text, re.MULTILINE)
    assert names == list(SENSORS.index)
    row = SENSORS.loc["curing_temperature"]
    assert f"{row['low']:g} - {row['high']:g}" in text
    assert f"{row['failure_probability']:.2f}" in text


def test_benchmark_rst_renders_every_result(tmp_path):
    """Check that every JSON result becomes a section with its script's
    docstring and tables holding its numbers, records and nested settings."""
    result = {
        "benchmark": "toy",
        "speedup": 4.53,
        "results": [{"task": "decode", "per_s": 11612.1}, {"task": "encode"}],
        "machine": {"cpu_count": 2},
    }
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "bench_toy.json").write_text(json.dumps(result))
    (tmp_path / "bench_toy.py").write_text('"""Time the toy codec."""\n')
    text = docs.benchmark_rst(tmp_path / "results")
    assert text.startswith("bench_toy.py\n------------\n\nTime the toy codec.")
    for needle in ("bench_toy.json", "4.53", "11612.1", "encode", "cpu_count",
                   "Machine\n~~~~~~~", "Results\n~~~~~~~"):
        assert needle in text
    assert "No benchmark results" in docs.benchmark_rst(tmp_path / "empty")


def test_report_rst_links_committed_report(tmp_path):
    """Check that the report page includes the committed report when it
    exists, and says that there is none otherwise."""
    assert "note::" in docs.report_rst(tmp_path)
    (tmp_path / "reproduce").mkdir()
    (tmp_path / "reproduce" / "report.md").write_text("# Report\n")
    assert "   /reproduce/report\n" in docs.report_rst(tmp_path)


def test_move_shape_to_notes_keeps_shape_block():
    """Check that a Shape section becomes part of Notes, before Examples."""
    lines = ["Summary.", "", "Shape", "-----", "- x: (n, d)", "",
             "Examples", "--------", ">>> 1", "1"]
    docs.move_shape_to_notes(lines)
    assert "Shape" not in lines
    assert lines[:6] == ["Summary.", "", "Notes", "-----", "**Shape**", ""]
    assert lines.index("- x: (n, d)") < lines.index("Examples")


def test_escape_field_types_quotes_trailing_underscores():
    """Check that ``n_features_in_`` in a type is quoted, and code is not."""
    lines = [
        "rates_ : ndarray of shape (n_features_in_,)",
        ">>> model.feature_attributions_ : 1",
        "    Prose about coef_ stays.",
    ]
    docs.escape_field_types(lines)
    assert lines[0] == "rates_ : ndarray of shape (``n_features_in_``,)"
    assert lines[1:] == [">>> model.feature_attributions_ : 1",
                         "    Prose about coef_ stays."]


def test_bad_input_cases_show_what_they_promise():
    """Check that every case of the bad-input table raises a clear error or
    works, as the case says, and that no message leaks the scratch folder."""
    bad_inputs = docs.load_bad_inputs()
    results = bad_inputs.outcomes()
    wrong = [
        (case.component, case.bad_input, outcome)
        for case, outcome in results
        if outcome.kind != case.expect
    ]
    assert not wrong, wrong
    rst = docs.list_table(["a", "b", "c"], bad_inputs.table_rows(results))
    assert str(Path(tempfile.gettempdir())) not in rst
    assert "``RLEError``: Invalid run-length encoding" in rst
