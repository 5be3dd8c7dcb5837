"""Probes: check services from this vantage point and say which layer fails."""
