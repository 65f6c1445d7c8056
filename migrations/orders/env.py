"""Alembic environment for the orders database."""

from datasources.migrate import run_environment
from datasources.orders.tables import metadata

run_environment(metadata, "orders")
