"""Incident fusion: one explained state per service from crowd, probes and official status.

The pure core (`fuse`, `track`, `link_shared`, `FusionEngine`, `verdict`, `advise`) works on
`pantau.signals` types; the minute job in `pantau.incidents.job` is the I/O edge.
"""
