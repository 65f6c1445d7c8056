"""Search quality: precision@10 of semantic search against a keyword baseline, on a labelled
set of queries phrased the way shoppers ask, not the way the descriptions are written."""

from __future__ import annotations

import re
from dataclasses import dataclass

from datasources.inventory.source import InventorySource
from datasources.measuring import keyword_search
from datasources.stores import Stores
from embeddings.model import Embedder

# (query, the genre a relevant book has)
LABELLED: tuple[tuple[str, str], ...] = (
    ("who poisoned the vicar at the garden fete", "Mystery"),
    ("an amateur sleuth solves a killing in a quiet English town", "Mystery"),
    ("astronauts meet an extraterrestrial civilisation", "Science Fiction"),
    ("stranded on a spaceship with failing oxygen", "Science Fiction"),
    ("wizards, a cursed kingdom and an ancient prophecy", "Fantasy"),
    ("a farm boy discovers he can talk to dragons", "Fantasy"),
    ("a hitman races to stop a terror attack", "Thriller"),
    ("an intelligence agent uncovers a conspiracy", "Thriller"),
    ("two strangers fall for each other over one summer", "Romance"),
    ("a second chance at love after heartbreak", "Romance"),
    ("something evil lives in the attic", "Horror"),
    ("ghosts haunt a remote asylum", "Horror"),
    ("dinner ideas with vegetables and spices", "Cooking"),
    ("easy weeknight meals for a family", "Cooking"),
    ("backpacking through the villages of Portugal", "Travel"),
    ("a road trip across deserts and national parks", "Travel"),
    ("how empires rose and fell in antiquity", "History"),
    ("what really caused the first world war", "History"),
    ("the memoir of a famous physicist's life", "Biography"),
    ("the life story of a jazz musician", "Biography"),
    ("how to manage a team and grow a company", "Business"),
    ("negotiation and marketing for founders", "Business"),
    ("verses about longing, loss and the ocean", "Poetry"),
    ("a collection of short lyrical poems about nature", "Poetry"),
    ("why people make irrational choices", "Psychology"),
    ("understanding memory, emotion and the mind", "Psychology"),
    ("strength training and healthy eating habits", "Health & Fitness"),
    ("getting fit after forty", "Health & Fitness"),
    ("a picture book about a bear who cannot sleep", "Children's"),
    ("a funny story to read aloud to a five year old", "Children's"),
    ("programming and artificial intelligence explained", "Technology"),
    ("how the internet and computers work", "Technology"),
    ("a real murder case and the trial that followed", "True Crime"),
    ("the investigation into a notorious serial killer", "True Crime"),
    ("the meaning of life and how to live well", "Philosophy"),
    ("ethics, free will and the stoics", "Philosophy"),
)

_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "about",
        "how",
        "what",
        "why",
        "who",
        "is",
        "are",
        "be",
        "after",
        "over",
        "into",
        "through",
        "each",
        "other",
        "one",
        "his",
        "her",
        "their",
        "its",
        "this",
        "that",
        "it",
        "as",
        "up",
        "can",
    ]
)


def keywords(query: str) -> list[str]:
    return [w for w in re.findall(r"[a-z']+", query.lower()) if w not in _STOPWORDS and len(w) > 2]


@dataclass(frozen=True, slots=True)
class QualityRow:
    query: str
    genre: str
    semantic: float
    keyword: float


async def evaluate(stores: Stores, embedder: Embedder, k: int = 10) -> list[QualityRow]:
    inventory = InventorySource(stores.inventory)
    rows = []
    for query, genre in LABELLED:
        vector = await embedder.embed_query(query)
        semantic = [hit.book_id for hit in await stores.index.search(vector, limit=k)]
        keyword = await keyword_search(stores.inventory, keywords(query), limit=k)
        genres = await inventory.genres_by_book_id.load_many(list({*semantic, *keyword}))
        by_book = dict(zip(list({*semantic, *keyword}), genres, strict=True))
        rows.append(
            QualityRow(
                query=query,
                genre=genre,
                semantic=sum(genre in by_book[b] for b in semantic) / k,
                keyword=sum(genre in by_book[b] for b in keyword) / k,
            )
        )
    return rows
