"""The inventory store (SQLite, or PostgreSQL for replicas): books, authors, genres and stock.

`rows` holds its driver-free values, `tables` the SQLAlchemy tables, `source` the per-request
loaders and the books filter in SQL, `stock` the reservations checkout makes, `bulk` imports, the
demo catalog and the documents the search index is built from. Imports nothing above datasources.
"""
