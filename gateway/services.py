"""What one process holds for every request, typed: opened by the app's lifespan, read by the view,
the WebSocket handler and the operational endpoints through `services(app)`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from starlette.applications import Starlette

from checkout.saga import Checkout
from config import Settings
from datasources.search.source import Coverage
from datasources.stores import Stores
from embeddings.model import Model
from execution.plans import CompiledExecution
from gateway.admission import Admission
from gateway.caching import CachePolicies
from gateway.persisted import PersistedQueries
from recommendations.recommender import Recommender


@dataclass(slots=True)
class Services:
    settings: Settings
    stores: Stores
    model: Model
    checkout: Checkout
    recommender: Recommender
    persisted: PersistedQueries
    admission: Admission
    cache_policies: CachePolicies
    plans: CompiledExecution | None  # None: COMPILED_EXECUTION is off
    # How much of the catalog the search index holds (ingest.indexing.watch_coverage counts it).
    coverage: Coverage = field(default_factory=Coverage)
    # Live subscriptions per client in this process (gateway/websocket.py keeps the count).
    live_subscriptions: Counter[str] = field(default_factory=Counter)


def services(app: Starlette) -> Services:
    found = getattr(app.state, "services", None)
    if not isinstance(found, Services):
        raise RuntimeError("the app's services are opened by its lifespan, which has not run")
    return found
