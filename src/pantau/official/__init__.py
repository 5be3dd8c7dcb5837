"""Official status pages: what vendors admit, when they admit it, and planned maintenance.

Adapters (`statuspage`, `incidentio`, `feed`) turn pages into the normalised model
(`model`); `poller` fetches them with conditional requests and keeps the last known
state; `lag` measures how late a vendor posts after pantau's own alarm.
"""
