"""The typed per-request context: who is asking, and one instance of each datasource."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from auth.viewer import Viewer
from checkout.saga import Checkout
from config import Settings
from datasources.inventory.source import InventorySource
from datasources.orders.source import OrdersSource
from datasources.redis.events import EventBus
from datasources.search.source import Coverage, SearchSource
from datasources.stores import Stores
from embeddings.model import Model
from recommendations.recommender import Recommender


@dataclass(slots=True)
class Context:
    request: Request | WebSocket
    response: Response | None
    settings: Settings
    viewer: Viewer
    request_id: str
    inventory: InventorySource
    orders: OrdersSource
    search: SearchSource
    checkout: Checkout
    events: EventBus
    recommender: Recommender
    # What a WebSocket client sent in `connection_init` (graphql-transport-ws); set by Strawberry.
    connection_params: dict[str, Any] | None = None
    # What the response says beside `data` and the cost (`searchIndex` while the index fills).
    extensions: dict[str, Any] = field(default_factory=dict)

    def with_viewer(self, viewer: Viewer) -> None:
        """The connection acts for `viewer` from now on (a token sent in `connection_init`): the
        sources that apply row rules are rebuilt for it."""
        self.viewer = viewer
        self.orders = OrdersSource(self.orders.engine, viewer)


def build_context(
    request: Request | WebSocket,
    response: Response | None,
    settings: Settings,
    stores: Stores,
    embedder: Model,
    checkout: Checkout,
    recommender: Recommender,
    viewer: Viewer,
    request_id: str,
    coverage: Coverage | None = None,
) -> Context:
    return Context(
        request=request,
        response=response,
        settings=settings,
        viewer=viewer,
        request_id=request_id,
        inventory=InventorySource(stores.inventory),
        orders=OrdersSource(stores.orders, viewer),
        search=SearchSource(stores.index, embedder, coverage),
        checkout=checkout,
        events=checkout.events,
        recommender=recommender,
    )


Info: TypeAlias = strawberry.Info[Context, None]
