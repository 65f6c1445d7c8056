"""Strawberry types per domain; `schema.root` builds the executable schema."""
