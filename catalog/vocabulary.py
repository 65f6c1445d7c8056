"""The demo catalog's words and templates, read from demo_vocabulary.toml and checked on the way in."""

from __future__ import annotations

import random
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_FILE = "demo_vocabulary.toml"
# Slots every genre may use: a story character ({Name}) or a person in a title or biography.
SHARED_SLOTS = ("Name", "Surname")
_KINDS = {dict: "table", list: "list", str: "string", int: "whole number"}
_GENRE_KEYS = ("weight", "price", "related", "label", "authors", "titles", "sentences", "words")


class VocabularyError(ValueError):
    """The data file is not in the shape the generator needs; the message says where."""


# "A {Adj} Affair" must read "An Accidental Affair" when the slot starts with a vowel.
_ARTICLE_BEFORE_VOWEL = re.compile(r"\b([Aa]) (?=[AEIOUaeiou])")


def _fields(text: str) -> list[str]:
    try:
        return list(dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(text) if f is not None))
    except ValueError as error:  # an unmatched brace
        raise VocabularyError(f"{text!r}: {error}") from None


class Template:
    """A template whose slots are resolved once; {slot2} draws a second, distinct word."""

    __slots__ = ("groups", "text")

    def __init__(self, text: str, words: Mapping[str, tuple[str, ...]]) -> None:
        groups: dict[str, list[str]] = {}
        for field in _fields(text):
            groups.setdefault(field.rstrip("0123456789"), []).append(field)
        for base, names in groups.items():
            if base not in words:
                raise VocabularyError(f"{text!r} names an unknown slot {{{base}}}")
            if len(words[base]) < len(names):
                raise VocabularyError(f"{text!r} needs {len(names)} different words for {{{base}}}")
        self.text = text
        self.groups = tuple((tuple(names), words[base]) for base, names in groups.items())

    def fill(self, rng: random.Random, chosen: dict[str, str]) -> str:
        """Fill the slots; `chosen` keeps one book's picks, so its hero stays the same hero."""
        for names, choices in self.groups:
            for name in names:
                if name not in chosen:
                    siblings = {chosen.get(other) for other in names}
                    value = rng.choice(choices)
                    while value in siblings:
                        value = rng.choice(choices)
                    chosen[name] = value
        text = _ARTICLE_BEFORE_VOWEL.sub(r"\1n ", self.text.format_map(chosen))
        return text[0].upper() + text[1:]


@dataclass(frozen=True, slots=True)
class Genre:
    weight: int  # relative share of the catalog
    price: tuple[int, int]  # whole-currency range; cents are added separately
    related: tuple[str, ...]  # plausible second genres
    label: str  # how the genre reads inside a sentence
    authors: tuple[str, ...]  # invented names; bigger catalogs add generated ones
    titles: tuple[Template, ...]
    sentences: tuple[Template, ...]  # description templates, one sentence each


@dataclass(frozen=True, slots=True)
class Vocabulary:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    blends: tuple[str, ...]  # bridges in two-genre descriptions; {a} and {b} are genre labels
    genres: dict[str, Genre]


def read_vocabulary() -> Vocabulary:
    """The vocabulary installed beside this module (package data).

    Found from this file rather than with importlib.resources.files("catalog"): under pytest,
    tests/catalog (no __init__.py) resolves "catalog" as a namespace package over the tests when
    the project is installed editable, and the data file would not be found there."""
    text = Path(__file__).with_name(DATA_FILE).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise VocabularyError(f"{DATA_FILE}: {error}") from None
    return parse_vocabulary(data)


def parse_vocabulary(data: Mapping[str, Any]) -> Vocabulary:
    """Check every field and template now, so a typo fails at import, not halfway through a seed run."""
    people = _get(data, "people", dict, DATA_FILE)
    first_names = _strings(people, "first_names", f"{DATA_FILE}: people")
    last_names = _strings(people, "last_names", f"{DATA_FILE}: people")
    # A blend is filled with the two genres' labels: {a} and {b} are its only slots.
    blends = _templates(data, "blends", {"a": ("",), "b": ("",)}, DATA_FILE)
    shared = dict(zip(SHARED_SLOTS, (first_names, last_names), strict=True))
    tables = _get(data, "genres", dict, DATA_FILE)
    if not tables:
        raise VocabularyError(f"{DATA_FILE}: 'genres' is empty")
    genres = {name: _genre(name, table, shared) for name, table in tables.items()}
    for name, genre in genres.items():
        if unknown := [other for other in genre.related if other not in genres or other == name]:
            raise VocabularyError(f"{DATA_FILE}: genre {name!r}: 'related' names {unknown[0]!r}")
    return Vocabulary(first_names, last_names, tuple(blend.text for blend in blends), genres)


def _genre(name: str, table: Any, shared: dict[str, tuple[str, ...]]) -> Genre:
    where = f"{DATA_FILE}: genre {name!r}"
    if not isinstance(table, dict):
        raise VocabularyError(f"{where} must be a table")
    if unknown := [key for key in table if key not in _GENRE_KEYS]:
        raise VocabularyError(f"{where}: unknown key {unknown[0]!r}")
    weight = _get(table, "weight", int, where)
    price = _get(table, "price", list, where)
    if weight <= 0:
        raise VocabularyError(f"{where}: 'weight' must be positive")
    if not (len(price) == 2 and all(isinstance(p, int) for p in price) and 0 < price[0] <= price[1]):
        raise VocabularyError(f"{where}: 'price' must be [lowest, highest], whole numbers above 0")
    word_table = _get(table, "words", dict, where)
    words = shared | {slot: _strings(word_table, slot, f"{where}, words") for slot in word_table}
    return Genre(
        weight=weight,
        price=(price[0], price[1]),
        related=_strings(table, "related", where),
        label=_get(table, "label", str, where),
        authors=_strings(table, "authors", where),
        titles=_templates(table, "titles", words, where),
        sentences=_templates(table, "sentences", words, where),
    )


def _get(table: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in table:
        raise VocabularyError(f"{where}: missing {key!r}")
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise VocabularyError(f"{where}: {key!r} must be a {_KINDS[kind]}")
    return value


def _strings(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A non-empty list of distinct strings: a repeated word would make two picks the same."""
    values = _get(table, key, list, where)
    if not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise VocabularyError(f"{where}: {key!r} must be a non-empty list of non-empty strings")
    if repeated := [v for i, v in enumerate(values) if v in values[:i]]:
        raise VocabularyError(f"{where}: {key!r} repeats {repeated[0]!r}")
    return tuple(values)


def _templates(
    table: Mapping[str, Any], key: str, words: Mapping[str, tuple[str, ...]], where: str
) -> tuple[Template, ...]:
    texts = _strings(table, key, where)
    try:
        return tuple(Template(text, words) for text in texts)
    except VocabularyError as error:
        raise VocabularyError(f"{where}: {key!r}: {error}") from None
