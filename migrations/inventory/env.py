"""Alembic environment for the inventory database."""

from datasources.inventory.tables import metadata
from datasources.migrate import run_environment

run_environment(metadata, "inventory")
