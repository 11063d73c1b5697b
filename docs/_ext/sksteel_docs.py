"""Pages of the sksteel documentation that are generated from the code.

Everything here is computed when the docs are built, so the site follows the
package without hand-copied names or numbers:

- the API reference, one page per public module (every ``sksteel.<sub>``
  subpackage and public top-level module with an ``__all__``) and one page
  per public name (:func:`api_pages`);
- the sensor table, from :data:`sksteel.datasets.SENSORS`
  (:func:`sensor_table_rst`);
- the benchmark tables, from ``benchmarks/results/*.json``
  (:func:`benchmark_rst`);
- the committed report of ``sksteel reproduce``, when there is one
  (:func:`report_rst`);
- the table of bad inputs and what users see, from live runs of the cases in
  ``bad_inputs.py`` (:func:`bad_input_rst`).

The functions return text and import nothing from Sphinx, so the test suite
checks them without building the site (``tests/test_docs.py``). Sphinx calls
:func:`setup`, which writes the files when the builder starts.
"""

import ast
import importlib
import importlib.util
import inspect
import json
import pkgutil
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
PROJECT = DOCS.parent

#: Folder of the generated API pages, relative to the docs source folder.
API_DIR = "api"

#: Folder of the generated ``.inc`` files the user guide includes.
INCLUDE_DIR = "_generated"

#: The committed report of ``sksteel reproduce``, relative to the docs folder.
REPORT = Path("reproduce") / "report.md"

_EXAMPLES_HEADER = re.compile(r"^Examples[ \t]*\n-{3,}[ \t]*\n", re.MULTILINE)


# --------------------------------------------------------------------------
# Public names
# --------------------------------------------------------------------------


def public_modules(package="sksteel"):
    """Names of the public modules of ``package`` that declare ``__all__``.

    Public means not starting with ``_``: each subpackage
    (``sksteel.datasets``, ...) and each top-level module (``sksteel.cli``,
    ``sksteel.exceptions``), in alphabetical order.
    """
    root = importlib.import_module(package)
    names = []
    for info in pkgutil.iter_modules(root.__path__):
        if info.name.startswith("_"):
            continue
        name = f"{package}.{info.name}"
        if hasattr(importlib.import_module(name), "__all__"):
            names.append(name)
    return sorted(names)


def public_names(module_name):
    """``(name, object)`` pairs of a module's ``__all__``, in that order."""
    module = importlib.import_module(module_name)
    return [(name, getattr(module, name)) for name in module.__all__]


def object_kind(obj):
    """``"class"``, ``"function"`` or ``"data"``: how the API documents it."""
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def data_comment(module_name, name, _seen=None):
    """The ``#:`` comment documenting the constant ``name`` of a module.

    Follows ``from x import name`` re-exports to the module that assigns
    the value. Returns ``""`` when there is no such comment.
    """
    _seen = set() if _seen is None else _seen
    if module_name in _seen:
        return ""
    _seen.add(module_name)
    module = importlib.import_module(module_name)
    source = inspect.getsource(module)
    lines = source.splitlines()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and any(
            alias.name == name and alias.asname in (None, name) for alias in node.names
        ):
            package = module_name if _is_package(module) else module.__package__
            origin = importlib.util.resolve_name(
                "." * node.level + (node.module or ""), package
            )
            return data_comment(origin, name, _seen)
        if _assigns(node, name):
            comment = []
            for line in reversed(lines[: node.lineno - 1]):
                stripped = line.strip()
                if not stripped.startswith("#:"):
                    break
                comment.insert(0, stripped[2:].strip())
            return " ".join(comment)
    return ""


def _is_package(module):
    return hasattr(module, "__path__")


def _assigns(node, name):
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign):
        targets = [node.target]
    else:
        return False
    return any(isinstance(t, ast.Name) and t.id == name for t in targets)


def has_examples(docstring):
    """Whether a numpydoc docstring has a non-empty ``Examples`` section."""
    docstring = inspect.cleandoc(docstring or "")
    match = _EXAMPLES_HEADER.search(docstring)
    return bool(match) and bool(docstring[match.end() :].strip())


def summary_line(obj, module_name, name):
    """The first sentence of an object's documentation, on one line."""
    if object_kind(obj) == "data":
        text = data_comment(module_name, name)
    else:
        text = inspect.getdoc(obj) or ""
    paragraph = text.strip().split("\n\n")[0]
    return " ".join(paragraph.split())


# --------------------------------------------------------------------------
# API pages
# --------------------------------------------------------------------------


def _title(text, underline="="):
    return f"{text}\n{underline * len(text)}\n"


def _object_page(module_name, name, obj):
    """The page of one public name."""
    full = f"{module_name}.{name}"
    kind = object_kind(obj)
    lines = [_title(name), f".. currentmodule:: {module_name}", ""]
    if kind == "class":
        lines += [f".. autoclass:: {name}", "   :members:", ""]
    elif kind == "function":
        lines += [f".. autofunction:: {name}", ""]
    else:
        lines += _data_directive(module_name, name, obj)
    lines += [f".. minigallery:: {full}", "   :add-heading:", ""]
    return "\n".join(lines)


def _data_directive(module_name, name, obj):
    """A constant: its comment and its value (a table for a DataFrame)."""
    lines = [f".. data:: {name}", ""]
    comment = data_comment(module_name, name)
    if comment:
        lines += [f"   {comment}", ""]
    lines += [f"   Value (``{type(obj).__module__}.{type(obj).__qualname__}``):", ""]
    to_string = getattr(obj, "to_string", None)
    text = to_string() if callable(to_string) else _pretty(obj)
    lines += ["   .. code-block:: text", ""]
    lines += [f"      {line}".rstrip() for line in text.splitlines()]
    lines.append("")
    return lines


def _pretty(obj):
    if isinstance(obj, (dict, list, tuple)):
        try:
            return json.dumps(obj, indent=2, default=repr)
        except (TypeError, ValueError):
            pass
    return repr(obj)


def _module_page(module_name):
    """The page of one public module: its docstring and a summary table."""
    names = public_names(module_name)
    lines = [
        _title(f"``{module_name}``"),
        f".. automodule:: {module_name}",
        "   :no-members:",
        "",
        f".. currentmodule:: {module_name}",
        "",
    ]
    groups = {"class": "Classes", "function": "Functions", "data": "Constants"}
    for kind, heading in groups.items():
        members = [(n, o) for n, o in names if object_kind(o) == kind]
        if not members:
            continue
        role = {"class": "class", "function": "func", "data": "data"}[kind]
        lines += [
            _title(heading, "-"),
            ".. list-table::",
            "   :widths: 30 70",
            "",
        ]
        for name, obj in members:
            summary = summary_line(obj, module_name, name) or " "
            lines += [
                f"   * - :{role}:`{name}`",
                f"     - {summary}",
            ]
        lines.append("")
    lines += [".. toctree::", "   :hidden:", ""]
    lines += [f"   generated/{module_name}.{name}" for name, _ in names]
    lines.append("")
    return "\n".join(lines)


def api_pages(package="sksteel"):
    """Every generated API page, as ``{path relative to docs/: text}``.

    One page per public module (``api/<module>.rst``) with a summary table,
    and one per public name (``api/generated/<module>.<name>.rst``) with
    its autodoc directive and the gallery examples that use it.
    """
    pages = {}
    for module_name in public_modules(package):
        pages[f"{API_DIR}/{module_name}.rst"] = _module_page(module_name)
        for name, obj in public_names(module_name):
            path = f"{API_DIR}/generated/{module_name}.{name}.rst"
            pages[path] = _object_page(module_name, name, obj)
    return pages


def undocumented_reason(module_name, name):
    """Why the public ``name`` of a module is not documented enough, or None.

    Classes and functions need a docstring with an ``Examples`` section,
    constants a ``#:`` comment.
    """
    obj = getattr(importlib.import_module(module_name), name)
    if object_kind(obj) == "data":
        if not data_comment(module_name, name):
            return "constant without a '#:' documentation comment"
        return None
    docstring = inspect.getdoc(obj)
    if not docstring:
        return "no docstring"
    if not has_examples(docstring):
        return "docstring without an Examples section"
    return None


# --------------------------------------------------------------------------
# Tables for the user guide
# --------------------------------------------------------------------------


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    text = str(value).replace("|", "/")
    return text.replace("\n", " ")


def list_table(header, rows, *, title=None):
    """An rST ``list-table`` of ``rows`` (lists of cells) under ``header``."""
    directive = ".. list-table::" + (f" {title}" if title else "")
    lines = [directive, "   :header-rows: 1", ""]
    for row in [header, *rows]:
        cells = [_cell(v) or " " for v in row]
        lines.append(f"   * - {cells[0]}")
        lines += [f"     - {cell}" for cell in cells[1:]]
    lines.append("")
    return "\n".join(lines)


def sensor_table_rst():
    """The sensor table of :data:`sksteel.datasets.SENSORS` as rST."""
    from sksteel.datasets import SENSORS

    rows = [
        [f"``{name}``", row["unit"], f"{row['low']:g} - {row['high']:g}",
         f"{row['failure_probability']:.2f}",
         f"{row['feasible_low']:g} - {row['feasible_high']:g}",
         "yes" if row["actionable"] else "no"]
        for name, row in SENSORS.iterrows()
    ]
    header = ["column", "unit", "normal range", "failure probability",
              "feasible range", "actionable"]
    return list_table(header, rows)


def _records_table(records):
    """A list of dicts as a table (columns in first-seen order)."""
    columns = []
    for record in records:
        columns += [k for k in record if k not in columns]
    rows = [[record.get(c) for c in columns] for record in records]
    return list_table(columns, rows)


def _heading(key):
    """A JSON key as a section title: ``peak_rss_mb`` -> ``Peak rss mb``."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _render_json(value, heading_level=0):
    """Tables for one benchmark result: scalars as a key/value table, lists
    of records as tables, nested dicts as subsections."""
    underline = "-~^"[min(heading_level, 2)]
    scalars = {k: v for k, v in value.items() if not isinstance(v, (dict, list))}
    scalars.update(
        {k: v for k, v in value.items()
         if isinstance(v, list) and not any(isinstance(i, dict) for i in v)}
    )
    parts = []
    if scalars:
        rows = [[f"``{k}``", v] for k, v in scalars.items()]
        parts.append(list_table(["", "value"], rows))
    for key, item in value.items():
        if isinstance(item, dict):
            parts += [_title(_heading(key), underline),
                      _render_json(item, heading_level + 1)]
        elif isinstance(item, list) and any(isinstance(i, dict) for i in item):
            parts += [_title(_heading(key), underline), _records_table(item)]
    return "\n".join(parts)


def _script_docstring(script):
    """The module docstring of a benchmark script, or ``""``."""
    if not script.is_file():
        return ""
    return ast.get_docstring(ast.parse(script.read_text())) or ""


def benchmark_rst(results_dir=PROJECT / "benchmarks" / "results"):
    """One section per ``benchmarks/results/<name>.json`` file, as rST: the
    docstring of the script that wrote it, then its numbers as tables."""
    results_dir = Path(results_dir)
    files = sorted(results_dir.glob("*.json"))
    if not files:
        return "No benchmark results are committed yet.\n"
    parts = []
    for path in files:
        result = json.loads(path.read_text())
        stem = path.stem if path.stem.startswith("bench_") else f"bench_{path.stem}"
        script = results_dir.parent / f"{stem}.py"
        parts += [
            _title(f"{stem}.py", "-"),
            _script_docstring(script) + "\n",
            f"Results: ``benchmarks/results/{path.name}``.\n",
        ]
        if isinstance(result, dict):
            parts.append(_render_json(result, heading_level=1))
        else:
            parts.append(f".. code-block:: json\n\n   {json.dumps(result)}\n")
    return "\n".join(parts)


def report_rst(docs_dir=DOCS):
    """A toctree holding the committed report, or a note that there is none."""
    if (Path(docs_dir) / REPORT).is_file():
        return "\n".join([
            ".. toctree::",
            "   :maxdepth: 1",
            "",
            f"   /{REPORT.with_suffix('').as_posix()}",
            "",
        ])
    return (
        ".. note::\n\n   No report is committed with this version of the "
        f"documentation yet (``docs/{REPORT.as_posix()}``). Run the command "
        "above to produce one.\n"
    )


def load_bad_inputs():
    """The ``bad_inputs`` module beside this file (not a package)."""
    spec = importlib.util.spec_from_file_location(
        "bad_inputs", Path(__file__).with_name("bad_inputs.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bad_input_rst():
    """The table of bad inputs: every case of ``bad_inputs.py``, run now."""
    rows = load_bad_inputs().table_rows()
    return list_table(["component", "bad input", "what you see"], rows)


def generated_files(docs_dir=DOCS):
    """Every generated file, as ``{path relative to docs/: text}``."""
    files = dict(api_pages())
    files[f"{INCLUDE_DIR}/sensors.inc"] = sensor_table_rst()
    files[f"{INCLUDE_DIR}/benchmarks.inc"] = benchmark_rst()
    files[f"{INCLUDE_DIR}/report.inc"] = report_rst(docs_dir)
    files[f"{INCLUDE_DIR}/bad_inputs.inc"] = bad_input_rst()
    return files


def write_generated(docs_dir=DOCS):
    """Write the generated files, touching only those that changed, and
    remove stale API pages (names that left an ``__all__``)."""
    docs_dir = Path(docs_dir)
    files = generated_files(docs_dir)
    for relative, text in files.items():
        path = docs_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
    for folder in (docs_dir / API_DIR, docs_dir / INCLUDE_DIR):
        for path in folder.rglob("*"):
            relative = path.relative_to(docs_dir).as_posix()
            if path.suffix in (".rst", ".inc") and relative not in files:
                path.unlink()


def _is_header(lines, i):
    """Whether ``lines[i]`` is a numpydoc section title (underlined by dashes)."""
    return (
        i + 1 < len(lines)
        and lines[i].strip() != ""
        and set(lines[i + 1].strip()) == {"-"}
        and len(lines[i + 1].strip()) >= 3
    )


def move_shape_to_notes(lines):
    """Turn the ``Shape`` section of the torch modules' docstrings into a part
    of ``Notes``, in place: numpydoc knows no ``Shape`` section and would
    drop it."""
    starts = [i for i in range(len(lines)) if lines[i].strip() == "Shape"
              and _is_header(lines, i)]
    if not starts:
        return
    start = starts[0]
    end = next((i for i in range(start + 2, len(lines)) if _is_header(lines, i)),
               len(lines))
    content = lines[start + 2 : end]
    del lines[start:end]
    block = ["**Shape**", "", *content]
    notes = [i for i in range(len(lines)) if lines[i].strip() == "Notes"
             and _is_header(lines, i)]
    if notes:
        lines[notes[0] + 2 : notes[0] + 2] = [*block, ""]
        return
    examples = [i for i in range(len(lines)) if lines[i].strip() == "Examples"
                and _is_header(lines, i)]
    where = examples[0] if examples else len(lines)
    lines[where:where] = ["Notes", "-----", *block, ""]


#: ``name : type`` lines of numpydoc's Parameters, Returns, Attributes, ...
_FIELD_LINE = re.compile(r"^(\s*[\w*][\w, *]* : )(.*)$")

#: A bare word ending in ``_`` (such as ``n_features_in_``), outside literals.
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?![\w`])")


def escape_field_types(lines):
    """Quote names ending in ``_`` in the type part of numpydoc field lines,
    in place: ``ndarray of shape (n_features_in_,)`` would otherwise be read
    as an rST hyperlink reference to ``n_features_in``."""
    for i, line in enumerate(lines):
        match = _FIELD_LINE.match(line)
        if match and not line.lstrip().startswith((">>>", "...")):
            head, kind = match.groups()
            lines[i] = head + _TRAILING_UNDERSCORE.sub(r"``\1``", kind)


def _on_docstring(app, what, name, obj, options, lines):
    move_shape_to_notes(lines)
    escape_field_types(lines)


def _skip_foreign_member(app, what, name, obj, skip, options):
    """Leave out members that sksteel's classes inherit or receive from
    other libraries (``set_fit_request`` and friends): their documentation
    lives there and refers to pages this site does not have."""
    module = getattr(obj, "__module__", None) or ""
    if what == "class" and callable(obj) and not module.startswith("sksteel"):
        return True
    return None


def _on_builder_inited(app):
    write_generated(Path(app.srcdir))


def setup(app):
    """Sphinx entry point: generate the pages when the builder starts."""
    app.connect("builder-inited", _on_builder_inited)
    # Before numpydoc (priority 500) parses the docstrings.
    app.connect("autodoc-process-docstring", _on_docstring, priority=400)
    app.connect("autodoc-skip-member", _skip_foreign_member)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
