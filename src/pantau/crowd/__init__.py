"""Crowd reports: who reports (privately), validation, abuse limits, ingest and rollups."""
