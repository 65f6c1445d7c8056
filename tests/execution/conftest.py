"""The `both` fixture: the app with plans and the app without, on the same stores."""

from __future__ import annotations

import httpx
import pytest
from differential import Both

from config import Settings


@pytest.fixture
def both(client: httpx.AsyncClient, general_client: httpx.AsyncClient, settings: Settings) -> Both:
    return Both(client, general_client, settings)
