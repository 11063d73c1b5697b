"""Print pip requirements pinning every dependency to its lower bound.

``name>=X`` of ``pyproject.toml`` becomes ``name==X.*``: the newest release
that agrees with the bound as far as the bound goes (``scikit-learn>=1.6``
gives 1.6.1, the last bug-fix release of 1.6). Dependencies without a lower
bound (torch, torchvision) are left to the caller. Used by
``make test-lowest``.
"""

import re
import sys
from pathlib import Path

# pyproject.toml's [project] dependencies list, read without tomllib (3.11+)
text = (Path(__file__).parents[1] / "pyproject.toml").read_text()
dependencies = re.search(r"^dependencies = \[(.*?)^\]", text, re.M | re.S).group(1)
for requirement in re.findall(r'^\s*"([^"]+)"', dependencies, re.M):
    match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)\s*>=\s*([0-9.]+)(,.*)?", requirement)
    if match is None:
        continue
    name, lowest, _ = match.groups()
    sys.stdout.write(f"{name}=={lowest}.*\n")
