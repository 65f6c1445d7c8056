import copy
import random
import tomllib
from pathlib import Path
from typing import Any

import pytest

from catalog import vocabulary
from catalog.vocabulary import DATA_FILE, Template, VocabularyError, parse_vocabulary, read_vocabulary


@pytest.fixture(scope="module")
def pristine() -> dict[str, Any]:
    return tomllib.loads((Path(vocabulary.__file__).parent / DATA_FILE).read_text(encoding="utf-8"))


@pytest.fixture
def data(pristine: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(pristine)


def test_the_installed_file_is_read_whole() -> None:
    read = read_vocabulary()
    assert len(read.genres) == 24
    fantasy = read.genres["Fantasy"]
    assert fantasy.weight > 0 and fantasy.price[0] <= fantasy.price[1]
    assert "Science Fiction" in fantasy.related and fantasy.label == "epic fantasy"
    assert fantasy.authors and fantasy.titles and fantasy.sentences
    assert "Amara" in read.first_names and read.blends


@pytest.mark.parametrize(
    "key", ["weight", "price", "related", "label", "authors", "titles", "sentences", "words"]
)
def test_a_missing_field_names_the_genre_and_the_key(data: dict[str, Any], key: str) -> None:
    del data["genres"]["Poetry"][key]
    with pytest.raises(VocabularyError, match=rf"{DATA_FILE}: genre 'Poetry': missing '{key}'"):
        parse_vocabulary(data)


def test_a_missing_word_list_names_where_it_was_expected(data: dict[str, Any]) -> None:
    del data["people"]["last_names"]
    with pytest.raises(VocabularyError, match="people: missing 'last_names'"):
        parse_vocabulary(data)
    data["people"]["last_names"] = ["Abara"]
    del data["blends"]
    with pytest.raises(VocabularyError, match="missing 'blends'"):
        parse_vocabulary(data)


def test_a_template_with_an_unknown_slot_names_genre_key_and_slot(data: dict[str, Any]) -> None:
    data["genres"]["Horror"]["sentences"].append("It haunts {place} and {Ghoul}.")
    with pytest.raises(VocabularyError, match=r"genre 'Horror': 'sentences': .*unknown slot \{Ghoul\}"):
        parse_vocabulary(data)


def test_a_removed_word_list_breaks_the_templates_that_use_it(data: dict[str, Any]) -> None:
    words = data["genres"]["Mystery"]["words"]
    used = next(s for s in words if any("{" + s + "}" in t for t in data["genres"]["Mystery"]["titles"]))
    del words[used]
    with pytest.raises(VocabularyError, match=rf"genre 'Mystery': 'titles': .*unknown slot \{{{used}\}}"):
        parse_vocabulary(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda g: g.update(weight="many"), "'weight' must be a whole number"),
        (lambda g: g.update(weight=0), "'weight' must be positive"),
        (lambda g: g.update(price=[20, 10]), "'price' must be"),
        (lambda g: g.update(related=["Poetry", "Cookbooks"]), "'related' names 'Cookbooks'"),
        (lambda g: g.update(authors=[]), "'authors' must be a non-empty list"),
        (lambda g: g.update(label=3), "'label' must be a string"),
        (lambda g: g.update(titles=["The {Adj"]), "'titles': 'The {Adj'"),
        (lambda g: g.update(titel=["A Title"]), "unknown key 'titel'"),
        (lambda g: g["words"].update(Adj=["Silent", "Silent"]), "'Adj' repeats 'Silent'"),
        (lambda g: g["words"].update(Adj=["Silent"]), r"needs 2 different words for \{Adj\}"),
    ],
)
def test_a_malformed_field_is_refused_with_its_place(data: dict[str, Any], change: Any, message: str) -> None:
    genre = data["genres"]["Science Fiction"]
    genre["titles"].append("The {Adj} and the {Adj2}")
    parse_vocabulary(data)  # valid so far
    change(genre)
    with pytest.raises(VocabularyError, match=rf"genre 'Science Fiction'.*{message}"):
        parse_vocabulary(data)


def test_a_blend_may_only_name_the_two_genres(data: dict[str, Any]) -> None:
    data["blends"].append("Part {a}, part {c}.")
    with pytest.raises(VocabularyError, match=r"'blends': .*unknown slot \{c\}"):
        parse_vocabulary(data)


def test_a_template_fills_distinct_siblings_and_keeps_earlier_picks() -> None:
    words = {"Adj": ("Silent", "Hollow", "Broken"), "Name": ("Amara", "Kofi")}
    template = Template("a {Adj} and {Adj2} tale for {Name}", words)
    rng = random.Random(1)
    for _ in range(50):
        chosen = {"Name": "Kofi"}
        text = template.fill(rng, chosen)
        assert chosen["Adj"] != chosen["Adj2"] and text.endswith("for Kofi")
        assert text.startswith("A ") and text.split()[1] in words["Adj"]
    assert Template("a {Adj} affair", {"Adj": ("Accidental",)}).fill(rng, {}) == "An Accidental affair"
