"""pantau's storage: one interface over SQLite and PostgreSQL (SQLAlchemy Core).

`Store` is assembled from one mixin per domain, each in its own module; they share the
engine, the group-commit writer and `read` from `StoreBase`.
"""

from pantau.store.base import StoreBase, StoreError
from pantau.store.writer import Overloaded


class Store(StoreBase):
    """The store. Domain mixins are listed as bases as their modules land."""


__all__ = ["Overloaded", "Store", "StoreError"]
