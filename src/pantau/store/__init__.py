"""pantau's storage: one interface over SQLite and PostgreSQL (SQLAlchemy Core).

`Store` is assembled from one mixin per domain, each in its own module; they share the
engine, the group-commit writer and `read` from `StoreBase`.
"""

from pantau.store.base import StoreBase, StoreError
from pantau.store.incidents import IncidentStoreMixin
from pantau.store.official import OfficialStoreMixin
from pantau.store.probes import ProbesStoreMixin
from pantau.store.reports import ReportsStoreMixin
from pantau.store.writer import Overloaded


class Store(
    ReportsStoreMixin, ProbesStoreMixin, OfficialStoreMixin, IncidentStoreMixin, StoreBase
):
    """The store: every domain's reads and writes over one engine and writer."""


__all__ = ["Overloaded", "Store", "StoreError"]
