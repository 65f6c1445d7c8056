"""Catalog data that is loaded into the stores: the demo generator and file imports."""
