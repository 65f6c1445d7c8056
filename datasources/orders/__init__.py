"""The orders store (PostgreSQL): customers, orders, their lines and status events.

`rows` holds its driver-free values (imported by checkout and the schema), `tables` the SQLAlchemy
tables, `source` the per-request loaders with the row rules, `ledger` the checkout's writes and
`purchases` the sales history the recommender reads. Imports nothing above datasources.
"""
