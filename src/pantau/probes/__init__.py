"""Probes: check services from this vantage point and say which layer fails.

`run(ctx)` is the background job `pantau serve` starts (see `job.py`).
"""

from pantau.probes.job import run

__all__ = ["run"]
