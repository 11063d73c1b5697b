"""Writing a reproduction's results: results.json, report.md, report.html
and the PNG figures. Every number comes from the results passed in."""

import base64
import dataclasses
import html
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ._report_sections import differences_from_paper, paired_comparisons, report_blocks

__all__ = ["results_to_json", "write_report"]


def _jsonable(value):
    """``value`` with DataFrames, arrays and numpy scalars turned into plain
    Python; NaN and infinities become None (strict JSON)."""
    if isinstance(value, pd.DataFrame):
        frame = value.reset_index() if _named_index(value) else value
        return [_jsonable(row) for row in frame.to_dict("records")]
    if isinstance(value, pd.Series):
        return _jsonable(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name))
                for f in dataclasses.fields(value) if f.name not in _NOT_SAVED}
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _named_index(frame):
    """Whether the index carries information (named, or not a plain range)."""
    return any(name is not None for name in frame.index.names) or not isinstance(
        frame.index, pd.RangeIndex
    )


#: Parts of the results that are Python objects, not numbers to keep.
_NOT_SAVED = ("runs", "frame")


def results_to_json(results):
    """The results of :func:`reproduce` as a JSON-serialisable dict.

    Fitted models and the data set itself are left out; every number is
    kept. DataFrames become lists of records (their index as columns).

    Parameters
    ----------
    results : ReproduceResults or dict
        As returned by :func:`reproduce`.

    Returns
    -------
    results : dict
        Plain Python; for a :class:`ReproduceResults`, with the paired
        differences and the differences from the paper the report states.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sksteel.experiments._report import results_to_json
    >>> results_to_json({"a": pd.DataFrame({"x": [1.0, np.inf]}), "b": np.int64(2)})
    {'a': [{'x': 1.0}, {'x': None}], 'b': 2}
    """
    kept = {}
    for key, value in results.items():
        if key in _NOT_SAVED:
            continue
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in _NOT_SAVED}
        kept[key] = value
    if hasattr(results, "table1"):
        kept["paired_differences"] = [
            {"measure": label, **dataclasses.asdict(d), "verdict": d.verdict}
            for label, d in paired_comparisons(results)
        ]
        kept["differences_from_paper"] = differences_from_paper(results)
    return _jsonable(kept)


def _markdown_table(table):
    """A DataFrame of strings as a GitHub markdown table (index dropped)."""
    lines = ["| " + " | ".join(map(str, table.columns)) + " |"]
    lines.append("|" + "|".join("---" for _ in table.columns) + "|")
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)


def _markdown(blocks):
    parts = []
    for kind, *content in blocks:
        if kind == "h1":
            parts.append(f"# {content[0]}")
        elif kind == "h2":
            parts.append(f"## {content[0]}")
        elif kind == "p":
            parts.append(content[0])
        elif kind == "list":
            parts.append("\n".join(f"- {item}" for item in content[0]))
        elif kind == "code":
            parts.append(f"```\n{content[0]}\n```")
        elif kind == "table":
            parts.append(_markdown_table(content[0]))
        elif kind == "figure":
            name, caption = content
            parts.append(f"![{caption}](figures/{name}.png)\n\n*{caption}*")
    return "\n\n".join(parts) + "\n"


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
.table { overflow-x: auto; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f0f0; }
img { max-width: 100%; }
figcaption { font-style: italic; color: #555; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
"""


def _inline(text):
    """Escape text for HTML, keeping markdown `code` spans as <code>."""
    pieces = html.escape(text).split("`")
    return "".join(
        f"<code>{piece}</code>" if i % 2 else piece for i, piece in enumerate(pieces)
    )


def _html(blocks, figures_dir):
    body = []
    for kind, *content in blocks:
        if kind in ("h1", "h2", "p"):
            tag = {"p": "p"}.get(kind, kind)
            body.append(f"<{tag}>{_inline(content[0])}</{tag}>")
        elif kind == "list":
            items = "".join(f"<li>{_inline(item)}</li>" for item in content[0])
            body.append(f"<ul>{items}</ul>")
        elif kind == "code":
            body.append(f"<pre>{html.escape(content[0])}</pre>")
        elif kind == "table":
            table = content[0].to_html(index=False, escape=True, border=0)
            body.append(f'<div class="table">{table}</div>')
        elif kind == "figure":
            name, caption = content
            data = base64.b64encode((figures_dir / f"{name}.png").read_bytes())
            body.append(
                f'<figure><img alt="{html.escape(caption)}" '
                f'src="data:image/png;base64,{data.decode()}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>sksteel reproduce</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def write_report(results, out, figures):
    """Write ``results.json``, ``report.md``, ``report.html`` and the figures.

    Parameters
    ----------
    results : ReproduceResults
        As returned by :func:`reproduce`.
    out : str or path-like
        Output directory, created if needed; figures go to ``figures/``.
    figures : dict of str -> matplotlib Figure
        The figures to save (name -> figure); each is closed once saved.

    Returns
    -------
    paths : dict of str -> pathlib.Path
        ``"json"``, ``"markdown"``, ``"html"`` and one entry per figure.

    Examples
    --------
    >>> from sksteel.experiments import reproduce
    >>> results = reproduce(out="sksteel-reproduce", quick=True)  # doctest: +SKIP

    :func:`reproduce` calls ``write_report`` when ``out`` is given.
    """
    import matplotlib.pyplot as plt

    out = Path(out)
    figures_dir = out / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, figure in figures.items():
        paths[name] = figures_dir / f"{name}.png"
        figure.savefig(paths[name], dpi=110, bbox_inches="tight")
        plt.close(figure)
    blocks = report_blocks(results, available_figures=set(figures))
    paths["json"] = out / "results.json"
    paths["json"].write_text(json.dumps(results_to_json(results), indent=1) + "\n")
    paths["markdown"] = out / "report.md"
    paths["markdown"].write_text(_markdown(blocks))
    paths["html"] = out / "report.html"
    paths["html"].write_text(_html(blocks, figures_dir))
    return paths
