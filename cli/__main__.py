"""`python -m cli`: the `bookgraph` command."""

from cli.commands import app

app()
