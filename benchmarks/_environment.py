"""Where a benchmark ran: the machine's cores and load, and the versions."""

import importlib
import os
import platform


def machine():
    """Core count and 1-minute load average, for the JSON result."""
    return {
        "cpu_count": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def versions(*packages):
    """Versions of sksteel, of each of ``packages`` and of Python."""
    found = {"sksteel": importlib.import_module("sksteel").__version__}
    for name in packages:
        found[name] = importlib.import_module(name).__version__
    return {**found, "python": platform.python_version()}
