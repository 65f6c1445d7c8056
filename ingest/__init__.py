"""Data into the stores: the catalog into the search index, incrementally, and the index following
stock (`indexing`); the demo catalog, customers and history into inventory and orders (`seeding`).
Uses datasources and embeddings, never the schema."""
