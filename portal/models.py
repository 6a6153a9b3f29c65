"""Imports every model module so Base.metadata knows the whole schema
(Alembic autogenerate, create_all in tests)."""
import importlib
import pkgutil

import portal
from portal.db import Base


def load_all() -> type[Base]:
    for module in pkgutil.iter_modules(portal.__path__):
        if module.ispkg:
            try:
                importlib.import_module(f"portal.{module.name}.models")
            except ModuleNotFoundError as error:
                if error.name != f"portal.{module.name}.models":
                    raise
    return Base


metadata = load_all().metadata
