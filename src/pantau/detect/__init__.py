"""Pure streaming anomaly detection: per-minute crowd counts and generic value series."""
