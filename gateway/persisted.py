"""Persisted queries: Apollo's automatic persisted queries (APQ) and trusted documents.

APQ (`extensions.persistedQuery = {version: 1, sha256Hash}`): a hash the server does not know
answers PERSISTED_QUERY_NOT_FOUND, the client resends the hash with the text, the server checks
that the text hashes to it and registers it in Redis for every process. Queries may then come as
GET requests that a CDN can cache (mutations never over GET: Strawberry refuses them).

Trusted documents: `bookgraph operations build` turns gql/operations/*.graphql into a manifest that
ships with the apps. In "allowlist" mode the roles it is enforced for may run only those operations
(by hash, or by a text identical to one of them); nothing can be registered.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from graphql import OperationDefinitionNode, parse

from auth.viewer import Viewer
from config import ROOT
from datasources.redis.documents import DocumentStore
from errors import (
    BadUserInput,
    BookgraphError,
    PersistedQueryHashMismatch,
    PersistedQueryNotFound,
    PersistedQueryNotInList,
)

Mode = Literal["off", "apq", "allowlist"]
MANIFEST_FORMAT = "apollo-persisted-query-manifest"
OPERATIONS_DIR = ROOT / "gql" / "operations"
MANIFEST_PATH = OPERATIONS_DIR / "manifest.json"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Operation:
    id: str  # the sha256 of `body`
    name: str
    type: str
    body: str


@dataclass(frozen=True, slots=True)
class Manifest:
    """Apollo's persisted query manifest format, so Apollo's client tooling can read it."""

    operations: dict[str, Operation]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(op.name for op in self.operations.values())

    @classmethod
    def build(cls, directory: Path) -> Manifest:
        operations = {}
        for path in sorted(directory.glob("*.graphql")):
            body = path.read_text().strip() + "\n"
            definitions = [d for d in parse(body).definitions if isinstance(d, OperationDefinitionNode)]
            if len(definitions) != 1 or definitions[0].name is None:
                raise ValueError(f"{path.name}: one named operation per file (fragments may join it)")
            operation = definitions[0]
            assert operation.name is not None
            entry = Operation(sha256(body), operation.name.value, operation.operation.value, body)
            operations[entry.id] = entry
        return cls(operations)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        if not path.exists():
            return cls({})
        data = orjson.loads(path.read_bytes())
        return cls({item["id"]: Operation(**item) for item in data["operations"]})

    def dumps(self) -> bytes:
        operations = sorted(self.operations.values(), key=lambda op: op.name)
        document = {
            "format": MANIFEST_FORMAT,
            "version": 1,
            "operations": [dataclasses.asdict(op) for op in operations],
        }
        return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


@dataclass(frozen=True, slots=True)
class Resolved:
    query: str | None
    error: BookgraphError | None = None
    register: str | None = None  # the hash to store `query` under, once admission accepts it


class PersistedQueries:
    def __init__(
        self,
        store: DocumentStore,
        manifest: Manifest,
        mode: Mode,
        enforced_for: set[str],
        cache_size: int = 1024,
    ) -> None:
        self.store = store
        self.manifest = manifest
        # Read on every request (metric labels): computed once.
        self.operation_names = manifest.names
        self.mode = mode
        self.enforced_for = enforced_for
        # hash → text, so a hot persisted query costs no Redis round trip; the parsed and validated
        # document is then found by Strawberry's parser and validation caches.
        self._known: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size

    def allowlisted(self, viewer: Viewer) -> bool:
        return self.mode == "allowlist" and viewer.role.value in self.enforced_for

    async def resolve(self, query: str | None, extensions: dict[str, Any] | None, viewer: Viewer) -> Resolved:
        """The text to execute, or why there is none."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is not None:
            return await self._persisted(query, persisted, viewer)
        if self.allowlisted(viewer) and (query is None or sha256(query) not in self.manifest.operations):
            return Resolved(None, PersistedQueryNotInList("Only the app's registered operations may run."))
        return Resolved(query)

    async def _persisted(self, query: str | None, persisted: Any, viewer: Viewer) -> Resolved:
        if self.mode == "off":
            return Resolved(None, BadUserInput("Persisted queries are not enabled on this server."))
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(digest, str) or persisted.get("version") != 1:
            return Resolved(None, BadUserInput("`persistedQuery` needs `version: 1` and a `sha256Hash`."))
        digest = digest.lower()
        if query is not None:
            if sha256(query) != digest:
                return Resolved(None, PersistedQueryHashMismatch("The query does not match its sha256Hash."))
            if self.allowlisted(viewer):
                if digest not in self.manifest.operations:
                    return Resolved(
                        None, PersistedQueryNotInList("Only the app's registered operations may run.")
                    )
                return Resolved(query)
            if self.mode == "apq" and self._lookup(digest, viewer) is None:
                return Resolved(query, register=digest)
            return Resolved(query)
        known = self._lookup(digest, viewer)
        if known is None and not self.allowlisted(viewer) and self.mode == "apq":
            known = await self.store.get(digest)
            if known is not None:
                self._remember(digest, known)
        if known is not None:
            return Resolved(known)
        if self.allowlisted(viewer):
            return Resolved(None, PersistedQueryNotInList("Only the app's registered operations may run."))
        return Resolved(None, PersistedQueryNotFound())

    async def registrations(self, client: str) -> int | None:
        return await self.store.count_registration(client)

    async def register(self, digest: str, query: str) -> None:
        """Stores a document admission has accepted (it parses, validates and was paid for)."""
        self._remember(digest, query)
        await self.store.put(digest, query)

    def _lookup(self, digest: str, viewer: Viewer) -> str | None:
        if digest in self.manifest.operations:
            return self.manifest.operations[digest].body
        if self.allowlisted(viewer):
            return None
        text = self._known.get(digest)
        if text is not None:
            self._known.move_to_end(digest)
        return text

    def _remember(self, digest: str, text: str) -> None:
        self._known[digest] = text
        self._known.move_to_end(digest)
        while len(self._known) > self._cache_size:
            self._known.popitem(last=False)
