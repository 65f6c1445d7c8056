"""Redis: a cache and an event bus, never the only copy of anything.

`budgets` holds the clients' cost budgets, `documents` the registered persisted queries,
`recommendations` the computed recommendation lists, `events` the bus checkout publishes on and
`event_hub` the one subscription per process that every listener shares. Each fails open: when
Redis does not answer, its caller goes on without it (`base.fail_open`). Imports nothing above
datasources.
"""

STORE = "redis"
