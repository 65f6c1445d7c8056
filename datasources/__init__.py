"""One module per store; the only modules that import a database or cache driver."""
