"""Compiled execution: known queries answered from a plan made once (`plans` keeps and runs them,
`walk` makes one, `plan` is what it makes; `books`, `catalog` and `recommended` write the parts other
stores hold). Imports the schema's helpers, datasources and limits; nothing imports it but the
gateway and the composition root."""
