"""Thin root resolvers: read the arguments, call the request's datasources, wrap rows in types."""
