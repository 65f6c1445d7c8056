"""Parse and validate catalog files (CSV or JSON Lines) for `bookgraph import FILE`.

This module only reads; storing the records is the caller's job.

* Whole-file problems (unknown format, bad CSV header, empty file, not UTF-8) raise
  CatalogFormatError from `read_catalog` itself, before any row is produced, so an
  import never stops half way because of them.
* Problems with single rows are yielded as RowError values in file order, between the
  good BookRecords, so the caller can report them and keep every good row.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from catalog.records import BookRecord

Format = Literal["csv", "jsonl"]

FIELDS = ("isbn", "title", "authors", "description", "genres", "published_year", "price", "stock")
REQUIRED_COLUMNS = ("isbn", "title", "authors", "published_year", "price", "stock")

_FORMAT_NAMES: dict[str, Format] = {"csv": "csv", "jsonl": "jsonl", "ndjson": "jsonl", "json-lines": "jsonl"}
_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json-lines": "jsonl",
}

MAX_TITLE = 500
MAX_AUTHOR = 200
MAX_GENRE = 100
MIN_YEAR = 1450  # movable-type printing; anything earlier is a data error

_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() would accept "²" or Arabic-Indic digits
# Plain decimal notation only: Decimal() alone would also accept "1e3", "1_000", "NaN" and "Infinity".
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_CENT = Decimal("0.01")
_ISBN10 = re.compile(r"[0-9]{9}[0-9X]")
_ISBN13 = re.compile(r"97[89][0-9]{10}")  # every ISBN-13 is a "Bookland" EAN starting 978 or 979


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # 1-based physical line where the row starts
    field: str | None  # None for a row-level problem (bad JSON, wrong cell count)
    message: str


class CatalogFormatError(ValueError):
    """The file as a whole cannot be imported."""


class _Invalid(ValueError):
    """Raised by a field parser; the message is shown to the user as is."""


# --- public API ----------------------------------------------------------------------------


def detect_format(path: Path, explicit: str | None = None) -> Format:
    if explicit is not None:
        fmt = _FORMAT_NAMES.get(explicit.strip().lower())
        if fmt is None:
            raise CatalogFormatError(f"unknown catalog format {explicit!r}; use 'csv' or 'jsonl'")
        return fmt
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise CatalogFormatError(
            f"cannot tell the format of {path.name!r} from its extension; "
            f"use one of {', '.join(_EXTENSIONS)} or name the format explicitly"
        )
    return fmt


def read_catalog(path: Path, format: str | None = None) -> Iterator[BookRecord | RowError]:
    """Stream the rows of a catalog file in file order.

    Every good row becomes a BookRecord; a bad row yields one RowError per problem found.
    Not a generator itself, so whole-file checks run (and raise) at call time.
    """
    fmt = detect_format(path, format)
    _check_text_file(path)
    if fmt == "csv":
        columns, width = _csv_columns(path)
        rows = _csv_rows(path, columns, width)
    else:
        rows = _jsonl_rows(path)
    return _validate(rows)


def parse_row(raw: Mapping[str, object], line: int) -> BookRecord | list[RowError]:
    """Validate one row; CSV passes strings, JSON Lines may pass proper JSON types.

    Every field is checked so that all of a row's problems are reported at once.
    """
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for name, parse in _PARSERS.items():
        try:
            values[name] = parse(raw.get(name))
        except _Invalid as exc:
            errors.append(RowError(line, name, str(exc)))
    return errors if errors else BookRecord(**values)


def normalise_isbn(value: str) -> str | None:
    """Return the 13 ISBN-13 digits for a valid ISBN-10 or ISBN-13, else None."""
    compact = "".join(value.split()).replace("-", "").upper()
    if _ISBN13.fullmatch(compact):
        return compact if _isbn13_check_digit(compact[:12]) == compact[12] else None
    if _ISBN10.fullmatch(compact):
        # ISBN-10 check: the digits weighted 10..1 (X = 10) must sum to a multiple of 11.
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(compact))
        if total % 11:
            return None
        stem = "978" + compact[:9]
        return stem + _isbn13_check_digit(stem)
    return None


# --- whole file ----------------------------------------------------------------------------


def _check_text_file(path: Path) -> None:
    """Raise if the file is not UTF-8 or holds nothing but whitespace.

    This costs one extra pass in chunks (memory stays constant) but means a stray Latin-1
    byte near the end cannot abort an import after most rows were already handed out.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")()  # -sig: tolerate a BOM
    has_text = False
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 16):
                has_text = has_text or bool(decoder.decode(chunk).strip())
        decoder.decode(b"", final=True)  # a multi-byte sequence cut off at the end of file
    except UnicodeDecodeError as exc:
        raise CatalogFormatError(
            f"{path.name} is not UTF-8 encoded ({exc.reason}); re-save it with UTF-8 encoding"
        ) from None
    if not has_text:
        raise CatalogFormatError(f"{path.name} is empty")


def _csv_columns(path: Path) -> tuple[dict[str, int], int]:
    """Map known column names to their index; also return the header's cell count."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f), [])
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = cell.strip().lower()
        if name not in FIELDS:
            continue  # extra columns are allowed and ignored
        if name in columns:
            raise CatalogFormatError(f"CSV header has the column {name!r} twice")
        columns[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise CatalogFormatError(f"CSV header is missing required column(s): {', '.join(missing)}")
    return columns, len(header)


# --- rows ----------------------------------------------------------------------------------

# A source yields either (line, raw mapping) for parse_row, or a row-level RowError.
_RawRows = Iterator[tuple[int, Mapping[str, object]] | RowError]


def _csv_rows(path: Path, columns: dict[str, int], width: int) -> _RawRows:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader)  # the header, already checked by _csv_columns
        start = reader.line_num + 1
        try:
            for cells in reader:
                # reader.line_num is where the row *ended*; a quoted multi-line field makes
                # that later than where it began, so track the start from the previous end.
                line, start = start, reader.line_num + 1
                if not cells:
                    continue  # blank line; csv.DictReader skips these too
                if len(cells) != width:
                    yield RowError(line, None, f"expected {width} cells like the header, got {len(cells)}")
                else:
                    yield line, {name: cells[index] for name, index in columns.items()}
        except csv.Error as exc:  # e.g. a NUL byte or an oversized field: the rest is unreliable
            raise CatalogFormatError(f"{path.name} line {start}: unreadable CSV ({exc})") from None


def _jsonl_rows(path: Path) -> _RawRows:
    with path.open(encoding="utf-8-sig") as f:
        for line, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except ValueError as exc:  # JSONDecodeError, or an integer literal too long to convert
                reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                yield RowError(line, None, f"not valid JSON: {reason}")
                continue
            if isinstance(obj, dict):
                yield line, obj
            else:
                yield RowError(line, None, f"expected a JSON object, got {type(obj).__name__}")


def _validate(rows: _RawRows) -> Iterator[BookRecord | RowError]:
    first_line: dict[str, int] = {}  # isbn -> line of the row that was kept
    for item in rows:
        if isinstance(item, RowError):
            yield item
            continue
        line, raw = item
        result = parse_row(raw, line)
        if isinstance(result, list):
            yield from result
        elif result.isbn in first_line:
            yield RowError(
                line, "isbn", f"duplicate isbn {result.isbn}, first seen on line {first_line[result.isbn]}"
            )
        else:
            first_line[result.isbn] = line
            yield result


# --- fields --------------------------------------------------------------------------------


def _shown(value: object) -> str:
    """repr() for messages, cut short so a pasted essay does not flood the report."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: object, name: str) -> str:
    if value is None:  # absent CSV column or JSON key, or JSON null
        return ""
    if not isinstance(value, str):
        raise _Invalid(f"{name} must be a string, got {_shown(value)}")
    return value.strip()


def _parse_isbn(value: object) -> str:
    text = _text(value, "isbn")
    if not text:
        raise _Invalid("isbn is required")
    isbn = normalise_isbn(text)
    if isbn is None:
        raise _Invalid(f"isbn {_shown(text)} is not a valid ISBN-10 or ISBN-13 (wrong length or check digit)")
    return isbn


def _parse_title(value: object) -> str:
    title = _text(value, "title")
    if not title:
        raise _Invalid("title is required")
    if len(title) > MAX_TITLE:
        raise _Invalid(f"title must be at most {MAX_TITLE} characters, got {len(title)}")
    return title


def _parse_description(value: object) -> str:
    return _text(value, "description")


def _names(value: object, field: str, noun: str, max_len: int, required: bool) -> tuple[str, ...]:
    """A ';'-separated string (CSV or JSON) or a JSON list of strings, cleaned up."""
    if value is None:
        items: list[str] = []
    elif isinstance(value, str):
        items = value.split(";")
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = value
    else:
        raise _Invalid(f"{field} must be a list of strings or a ';'-separated string, got {_shown(value)}")
    cleaned = (" ".join(item.split()) for item in items)  # trim and collapse inner whitespace
    names = tuple(dict.fromkeys(name for name in cleaned if name))  # drop empties, de-duplicate in order
    if required and not names:
        raise _Invalid(f"at least one {noun} is required")
    for name in names:
        if len(name) > max_len:
            raise _Invalid(
                f"each {noun} must be at most {max_len} characters, {_shown(name)} has {len(name)}"
            )
    return names


def _parse_authors(value: object) -> tuple[str, ...]:
    return _names(value, "authors", "author", MAX_AUTHOR, required=True)


def _parse_genres(value: object) -> tuple[str, ...]:
    return _names(value, "genres", "genre", MAX_GENRE, required=False)


def _whole_number(value: object) -> int | None:
    """A JSON integer or a plain digit string ("12", not "12.0" or "+12"); None otherwise."""
    if isinstance(value, bool):  # bool is an int subclass, but `true` is no count
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        try:
            return int(value)
        except ValueError:  # over Python's 4300-digit int conversion limit
            return None
    return None


def _parse_year(value: object) -> int:
    if _missing(value):
        raise _Invalid("published_year is required")
    latest = date.today().year + 1  # allow announced titles for next year
    year = _whole_number(value)
    if year is None or not MIN_YEAR <= year <= latest:
        raise _Invalid(f"published_year must be a year between {MIN_YEAR} and {latest}, got {_shown(value)}")
    return year


def _parse_stock(value: object) -> int:
    if _missing(value):
        raise _Invalid("stock is required")
    stock = _whole_number(value)
    if stock is None or stock < 0:
        raise _Invalid(f"stock must be a non-negative integer, got {_shown(value)}")
    return stock


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # str() is the shortest round-tripping form, so JSON 12.5 gives "12.5" rather than the
        # binary approximation, while real noise such as 0.30000000000000004 keeps its extra
        # places and is rejected below. inf, nan and 1e+20 fail the pattern.
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    return Decimal(text) if _DECIMAL.fullmatch(text) else None


def _parse_price(value: object) -> Decimal:
    if _missing(value):
        raise _Invalid("price is required")
    try:
        price = _decimal(value)
        # exponent >= -2: at most two decimal places as written ("12.5", "12.50", not "12.505")
        if price is not None and price >= 0 and int(price.as_tuple().exponent) >= -2:
            return abs(price).quantize(_CENT)  # abs() turns "-0" into 0
    except InvalidOperation:  # more digits than the decimal context can quantize
        pass
    raise _Invalid(f"price must be a non-negative decimal with at most 2 decimal places, got {_shown(value)}")


# Keys are BookRecord's field names, so parse_row can build the record with **values.
_PARSERS: dict[str, Callable[[object], object]] = {
    "isbn": _parse_isbn,
    "title": _parse_title,
    "authors": _parse_authors,
    "description": _parse_description,
    "genres": _parse_genres,
    "published_year": _parse_year,
    "price": _parse_price,
    "stock": _parse_stock,
}


def _isbn13_check_digit(first12: str) -> str:
    # Weights alternate 1, 3; the check digit brings the sum to a multiple of 10.
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first12))
    return str(-total % 10)
