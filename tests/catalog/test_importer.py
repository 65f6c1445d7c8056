from decimal import Decimal
from pathlib import Path

import pytest

from catalog.importer import (
    CatalogFormatError,
    RowError,
    detect_format,
    normalise_isbn,
    parse_row,
    read_catalog,
)
from catalog.records import BookRecord

HEADER = "isbn,title,authors,description,genres,published_year,price,stock\n"

PRICE_MESSAGE = "price must be a non-negative decimal with at most 2 decimal places, got {!r}"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))  # bytes: no newline translation, exact line numbers
    return path


def summary(items: list[BookRecord | RowError]) -> list[object]:
    """Good rows as their isbn, bad ones as (line, field), in the order they were yielded."""
    return [(item.line, item.field) if isinstance(item, RowError) else item.isbn for item in items]


def good_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "isbn": "9780306406157",
        "title": "Title",
        "authors": "Ann Lee",
        "published_year": "1999",
        "price": "10",
        "stock": "1",
    }
    return row | overrides


# --- CSV ---------------------------------------------------------------------------------


def test_csv_lists_quoted_commas_and_multiline_description(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "books.csv",
        HEADER
        + '9780306406157,"Signals, Systems",Ann Lee; Bo Chan ;Ann Lee; ,A short one.,Science;  Popular   science ;,1999,12.5,3\n'
        + '0-8044-2957-X,Multi,"Cy Dee","First line\n'
        + "second, with comma\n"
        + '""quoted"" end",Fiction,2001,7,0\n'
        + "9780262033848,Later,Dee,,,2009,abc,1\n"
        + '9780131103627,Last,"Kernighan; Ritchie",,,1988,45.00,10\n',
    )

    assert list(read_catalog(path)) == [
        BookRecord(
            isbn="9780306406157",
            title="Signals, Systems",
            authors=("Ann Lee", "Bo Chan"),
            description="A short one.",
            genres=("Science", "Popular science"),
            published_year=1999,
            price=Decimal("12.50"),
            stock=3,
        ),
        BookRecord(
            isbn="9780804429573",
            title="Multi",
            authors=("Cy Dee",),
            description='First line\nsecond, with comma\n"quoted" end',
            genres=("Fiction",),
            published_year=2001,
            price=Decimal("7.00"),
            stock=0,
        ),
        # The multi-line description spans lines 3-5, so this row starts on line 6.
        RowError(6, "price", PRICE_MESSAGE.format("abc")),
        BookRecord(
            isbn="9780131103627",
            title="Last",
            authors=("Kernighan", "Ritchie"),
            description="",
            genres=(),
            published_year=1988,
            price=Decimal("45.00"),
            stock=10,
        ),
    ]


def test_csv_error_in_multiline_row_points_at_its_first_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "books.csv",
        HEADER
        + '9780306406157,Spans,Ann,"one\ntwo\nthree",,1999,1,oops\n'  # lines 2-4
        + "9780262033848,Next,Ann,,,1999,1,x\n",  # line 5
    )

    assert summary(list(read_catalog(path))) == [(2, "stock"), (5, "stock")]


def test_csv_mixed_good_and_bad_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "books.csv",
        HEADER
        + "9780000000019,Good one,Ann,,,2000,1.00,1\n"  # 2
        + "9780000000018,Bad checksum,Ann,,,2000,1.00,1\n"  # 3
        + "9780000000026,Negative price,Ann,,,2000,-1.00,1\n"  # 4
        + "9780000000033,Three decimals,Ann,,,2000,1.005,1\n"  # 5
        + "9780000000040,Fractional stock,Ann,,,2000,1.00,1.5\n"  # 6
        + "9780000000057,  ,Ann,,,2000,1.00,1\n"  # 7: title is only blanks
        + "9780000000064,Future,Ann,,,3000,1.00,1\n"  # 8
        + "9780000000071,Too few,Ann,,2000,1.00,1\n"  # 9
        + "9780000000088,Too many,Ann,,,2000,1.00,1,extra\n"  # 10
        + "\n"  # 11: blank lines are skipped, as csv.DictReader does
        + "9780262033848,Good two,Ann,,,2000,0,0\n",  # 12
    )

    items = list(read_catalog(path))

    assert summary(items) == [
        "9780000000019",
        (3, "isbn"),
        (4, "price"),
        (5, "price"),
        (6, "stock"),
        (7, "title"),
        (8, "published_year"),
        (9, None),
        (10, None),
        "9780262033848",
    ]
    errors = {(e.line, e.field): e.message for e in items if isinstance(e, RowError)}
    assert "'9780000000018'" in errors[(3, "isbn")]
    assert errors[(4, "price")] == PRICE_MESSAGE.format("-1.00")
    assert errors[(5, "price")] == PRICE_MESSAGE.format("1.005")
    assert errors[(6, "stock")] == "stock must be a non-negative integer, got '1.5'"
    assert errors[(7, "title")] == "title is required"
    assert "got '3000'" in errors[(8, "published_year")]
    assert errors[(9, None)] == "expected 8 cells like the header, got 7"
    assert errors[(10, None)] == "expected 8 cells like the header, got 9"


def test_row_reports_every_bad_field(tmp_path: Path) -> None:
    path = write(tmp_path, "books.csv", HEADER + "123,Title, ; ,,,1999,x,-2\n")

    assert summary(list(read_catalog(path))) == [
        (2, "isbn"),
        (2, "authors"),
        (2, "price"),
        (2, "stock"),
    ]


def test_duplicate_isbn_is_reported_with_first_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "books.csv",
        HEADER
        + "9780306406157,First,Ann,,,1999,1,1\n"
        + "9780262033848,Other,Ann,,,1999,1,1\n"
        + "0-306-40615-2,Same book as ISBN-10,Ann,,,1999,1,1\n",
    )

    items = list(read_catalog(path))

    assert [item.title for item in items if isinstance(item, BookRecord)] == ["First", "Other"]
    assert items[2] == RowError(4, "isbn", "duplicate isbn 9780306406157, first seen on line 2")


def test_csv_header_is_case_insensitive_and_extra_columns_ignored(tmp_path: Path) -> None:
    # description and genres are optional columns
    path = write(
        tmp_path,
        "books.CSV",
        " ISBN ,Title,AUTHORS,Published_Year,Price,stock,internal_note\n"
        "9780306406157,T,Ann,1999,3,4,whatever\n",
    )

    assert list(read_catalog(path)) == [
        BookRecord("9780306406157", "T", ("Ann",), "", (), 1999, Decimal("3.00"), 4)
    ]


def test_missing_required_header_names_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "books.csv", "isbn,title,authors,published_year\n9780306406157,T,A,1999\n")

    with pytest.raises(CatalogFormatError, match="missing required column\\(s\\): price, stock"):
        read_catalog(path)


def test_csv_bom_is_tolerated(tmp_path: Path) -> None:
    path = write(tmp_path, "books.csv", "\ufeff" + HEADER + "9780306406157,T,Ann,,,1999,1,1\n")

    assert summary(list(read_catalog(path))) == ["9780306406157"]


# --- JSON Lines --------------------------------------------------------------------------


def test_jsonl_lists_and_strings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "books.jsonl",
        '{"isbn": "9780306406157", "title": "A", "authors": ["Ann Lee", " Bo Chan ", "Ann Lee"],'
        ' "genres": ["Science"], "published_year": 1999, "price": 12.5, "stock": 3, "publisher": "ignored"}\n'
        '{"isbn": "978-0-262-03384-8", "title": "B", "authors": "Cy; Dee", "genres": "Fiction; Drama",'
        ' "description": "d", "published_year": "2001", "price": "7", "stock": "4"}\n',
    )

    assert list(read_catalog(path)) == [
        BookRecord("9780306406157", "A", ("Ann Lee", "Bo Chan"), "", ("Science",), 1999, Decimal("12.50"), 3),
        BookRecord("9780262033848", "B", ("Cy", "Dee"), "d", ("Fiction", "Drama"), 2001, Decimal("7.00"), 4),
    ]


def test_jsonl_mixed_good_and_bad_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "books.ndjson",
        '{"isbn": "9780306406157", "title": "A", "authors": ["Ann"], "published_year": 1999, "price": 1, "stock": 1}\n'
        '{"isbn": "9780262033848", "title": \n'
        "[1, 2]\n"
        '{"isbn": "9780131103627", "title": "C", "authors": ["Ann"], "published_year": 1999,'
        ' "price": 0.30000000000000004, "stock": true}\n'
        '{"isbn": "9780804429573", "title": "D", "authors": ["Ann"], "published_year": 1999, "price": 2, "stock": 0}\n',
    )

    items = list(read_catalog(path))

    assert summary(items) == [
        "9780306406157",
        (2, None),
        (3, None),
        (4, "price"),
        (4, "stock"),
        "9780804429573",
    ]
    assert items[1].message.startswith("not valid JSON: Expecting value")
    assert items[2].message == "expected a JSON object, got list"
    assert items[4].message == "stock must be a non-negative integer, got True"


def test_jsonl_blank_lines_are_skipped_and_line_numbers_stay_physical(tmp_path: Path) -> None:
    row = '{"isbn": "%s", "title": "T", "authors": "Ann", "published_year": 1999, "price": 1, "stock": 1}\n'
    path = write(
        tmp_path,
        "books.jsonl",
        "\ufeff" + row % "9780306406157" + "\n" + "   \n" + "{oops\n" + row % "9780262033848",
    )

    assert summary(list(read_catalog(path))) == ["9780306406157", (4, None), "9780262033848"]


# --- whole-file problems -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "explicit", "expected"),
    [
        ("a.csv", None, "csv"),
        ("a.JSONL", None, "jsonl"),
        ("a.ndjson", None, "jsonl"),
        ("a.json-lines", None, "jsonl"),
        ("a.txt", "CSV", "csv"),
        ("a.csv", "jsonl", "jsonl"),
    ],
)
def test_detect_format(name: str, explicit: str | None, expected: str) -> None:
    assert detect_format(Path(name), explicit) == expected


def test_unknown_extension_or_format_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "books.xlsx", HEADER)

    with pytest.raises(CatalogFormatError, match=r"books\.xlsx"):
        read_catalog(path)
    with pytest.raises(CatalogFormatError, match="'xml'"):
        read_catalog(path, format="xml")


def test_non_utf8_file_is_rejected_before_any_row(tmp_path: Path) -> None:
    path = write(tmp_path, "books.csv", HEADER + "9780306406157,Café,Ann,,,1999,1,1\n", encoding="latin-1")

    # Raised by the call itself, not half way through iterating.
    with pytest.raises(CatalogFormatError, match="not UTF-8 encoded"):
        read_catalog(path)


def test_utf16_jsonl_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "books.jsonl", '{"isbn": "9780306406157"}\n', encoding="utf-16")

    with pytest.raises(CatalogFormatError, match="UTF-8"):
        read_catalog(path)


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff  \n"])
def test_empty_file_is_rejected(tmp_path: Path, text: str) -> None:
    for name in ("books.csv", "books.jsonl"):
        with pytest.raises(CatalogFormatError, match="empty"):
            read_catalog(write(tmp_path, name, text))


# --- ISBNs and single fields -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0-306-40615-2", "9780306406157"),
        ("0306406152", "9780306406157"),
        ("978-0-306-40615-7", "9780306406157"),
        (" 978 0 306 40615 7 ", "9780306406157"),
        ("0-8044-2957-X", "9780804429573"),
        ("080442957x", "9780804429573"),
        ("0-306-40615-3", None),  # ISBN-10 check digit wrong
        ("9780306406158", None),  # ISBN-13 check digit wrong
        ("X804429570", None),  # X only allowed as the last ISBN-10 digit
        ("1234567890128", None),  # valid EAN-13 checksum but not a 978/979 ISBN
        ("030640615", None),
        ("", None),
    ],
)
def test_normalise_isbn(value: str, expected: str | None) -> None:
    assert normalise_isbn(value) == expected


def test_parse_row_accepts_json_types() -> None:
    record = parse_row(
        good_row(published_year=2001, price=12.5, stock=12, genres=None, description=None), line=7
    )

    assert record == BookRecord("9780306406157", "Title", ("Ann Lee",), "", (), 2001, Decimal("12.50"), 12)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stock", "12.0"),
        ("stock", 12.0),
        ("stock", True),
        ("stock", -1),
        ("price", "$12"),
        ("price", "1e3"),
        ("price", float("nan")),
        ("price", 0.1 + 0.2),
        ("published_year", 1449),
        ("published_year", None),
        ("title", "x" * 501),
        ("title", 5),
        ("authors", ["Ann", 3]),
        ("authors", ["a" * 201]),
        ("genres", ["g" * 101]),
        ("isbn", 9780306406157),
    ],
)
def test_parse_row_rejects(field: str, value: object) -> None:
    result = parse_row(good_row(**{field: value}), line=3)

    assert isinstance(result, list)
    assert [(e.line, e.field) for e in result] == [(3, field)]


def test_parse_row_limits_are_inclusive() -> None:
    result = parse_row(
        good_row(title="t" * 500, authors=["a" * 200], genres=["g" * 100], price="0.00"), line=2
    )

    assert isinstance(result, BookRecord)
    assert (len(result.title), result.price, result.stock) == (500, Decimal("0.00"), 1)
