"""The complete metadata: importing this module imports every capability's tables."""

from __future__ import annotations

import importlib

from liaison.db.base import Base

# Every module that declares tables. A capability adds its model module here.
MODEL_MODULES = (
    "liaison.core.agencies",
    "liaison.core.audit",
    "liaison.core.crypto",
    "liaison.core.signing",
    "liaison.identity.model",
    "liaison.matching.model",
    "liaison.entities.model",
    "liaison.exchange.model",
    "liaison.alerts.model",
)

for _module in MODEL_MODULES:
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as exc:  # a capability not built yet has no model module
        if exc.name != _module:
            raise

metadata = Base.metadata
