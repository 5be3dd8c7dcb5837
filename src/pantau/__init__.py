"""pantau: an outage detector that fuses crowd reports, probes and official status pages."""

__version__ = "0.1.0"
