"""Sphinx configuration of the sksteel documentation.

Build with ``make docs`` (warnings are errors). The API reference, the sensor
table, the benchmark tables and the report page are generated from the code
and the committed results by ``_ext/sksteel_docs.py``; the gallery runs the
``examples/plot_*.py`` scripts in their quick mode.
"""

import os
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

# Examples run in their quick mode (few epochs, small data) and draw off-screen.
os.environ["SKSTEEL_EXAMPLES_QUICK"] = "1"
os.environ.setdefault("MPLBACKEND", "agg")
# Data sets the examples generate are cached inside the build folder.
os.environ.setdefault("SKSTEEL_DATA", str(DOCS / "_build" / "sksteel_data"))

import sksteel

# -- Project ------------------------------------------------------------------

project = "sksteel"
author = "the sksteel developers"
copyright = "the sksteel developers, BSD-3-Clause"
release = sksteel.__version__
version = ".".join(release.split(".")[:2])

# -- Extensions ---------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "sksteel_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "scripts", "Thumbs.db", ".DS_Store"]
templates_path = []

# The reference pages use numpydoc; sksteel's own names are resolved, external
# ones (numpy, sklearn, torch) are left as plain text: the build is offline.
default_role = "literal"
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# The torch modules document tensor shapes in a "Shape" section, which
# sksteel_docs moves into "Notes" before numpydoc renders it.
warnings.filterwarnings("ignore", message="Unknown section Shape", category=UserWarning)

# Markdown pages (the data set card, the reproduce report).
myst_heading_anchors = 3

# -- Gallery ------------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "doc_module": ("sksteel",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"sksteel": None},
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
}

# -- HTML ---------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sksteel {release}"
html_static_path = ["_static"]
html_css_files = ["sksteel.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"changelog": [], "api": []}
