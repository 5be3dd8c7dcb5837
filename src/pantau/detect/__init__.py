"""Pure streaming anomaly detection: per-minute crowd counts and generic value series.

`run` is the crowd detector's minute job for `pantau serve`.
"""

from pantau.detect.job import run

__all__ = ["run"]
