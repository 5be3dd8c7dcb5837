"""All of pantau's tables.

Each domain defines its tables in its own module of this package (`core`, `reports`,
`probes`, `official`, `incidents`); importing the package registers them all on
`metadata`, which is what the migrations are compared against.
"""

import importlib
import pkgutil

from pantau.store.schema.base import metadata

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["metadata"]
