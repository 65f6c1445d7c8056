"""Deterministic demo data: a genre-flavoured book catalog, customers and an order history."""

from __future__ import annotations

import math
import random
import re
import string
import unicodedata
from bisect import bisect
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import TypeVar

from catalog.records import BookRecord, CustomerRecord, OrderLineRecord, OrderRecord

T = TypeVar("T")


def _words(text: str) -> tuple[str, ...]:
    """Word lists are written as '|'-separated strings to keep the tables compact."""
    return tuple(word.strip() for word in text.split("|"))


@dataclass(frozen=True, slots=True)
class _Genre:
    weight: int  # relative share of the catalog
    price: tuple[int, int]  # whole-currency range; cents are added separately
    related: tuple[str, ...]  # plausible second genres
    label: str  # how the genre reads inside a sentence
    authors: tuple[str, ...]  # invented names; bigger catalogs add generated ones
    titles: tuple[str, ...]  # templates; {slot} or {slot2} draws from words["slot"]
    sentences: tuple[str, ...]  # description templates, one sentence each
    words: dict[str, tuple[str, ...]]


def _genre(
    weight: int,
    price: tuple[int, int],
    related: str,
    label: str,
    authors: str,
    titles: tuple[str, ...],
    sentences: tuple[str, ...],
    **words: str,
) -> _Genre:
    return _Genre(
        weight,
        price,
        _words(related),
        label,
        _words(authors),
        titles,
        sentences,
        {slot: _words(text) for slot, text in words.items()},
    )


# Diverse invented names: customers, story characters and extra authors for big catalogs.
FIRST_NAMES = _words(
    "Amara | Aiden | Aisha | Alejandro | Ama | Anika | Arjun | Astrid | Beatriz | Bilal | Camille"
    " | Carlos | Chen | Chiara | Chloé | Dara | Daniel | Deepa | Diego | Elif | Elena | Emeka"
    " | Emma | Esther | Farah | Felix | Fatima | Freya | Gabriel | Grace | Hamza | Hana | Hassan"
    " | Inês | Isaac | Isla | Ivan | Jamal | Javier | Jia | Jonas | Kai | Kavya | Keisha | Kenji"
    " | Kofi | Lars | Leila | Liam | Lina | Luca | Lucia | Mai | Malik | Mariana | Mateo | Maya"
    " | Mehmet | Mei | Mira | Mohammed | Nadia | Naomi | Nikhil | Nina | Noah | Nour | Olga | Omar"
    " | Oskar | Priya | Rafael | Rania | Ravi | Rosa | Ruth | Sakura | Samir | Sara | Sebastian"
    " | Seo-yeon | Sofia | Tariq | Thandi | Theo | José | Valentina | Wei | Yara | Yusuf | Zainab"
    " | Zara | Zoë | Adebayo | Ingrid | Hugo | Aroha | Kwame | Min-jun | Paulo | Siobhan | Declan"
    " | Anya | Dmitri | Leon | Björn | Aurélie | Tomasz | Ngozi | Rohan | Ayumi | Cormac | Lucía"
)
LAST_NAMES = _words(
    "Abara | Adeyemi | Alvarez | Andersen | Aoki | Bakker | Banerjee | Barros | Bauer | Bello"
    " | Bergström | Bianchi | Brennan | Castillo | Chaudhry | Chen | Cohen | Costa | Dalton | Das"
    " | Delgado | Dubois | Eriksen | Esposito | Farah | Fernandes | Fischer | Fitzgerald | Ghosh"
    " | González | Greene | Haddad | Hakimi | Hansen | Hartley | Hoang | Horvat | Huang | Ibrahim"
    " | Iyer | Jankowski | Jensen | Kaur | Kelly | Khan | Kim | Kowalski | Kumar | Larsen | Lee"
    " | López | Mahlangu | Mancini | Mendoza | Moreau | Morales | Murphy | Mwangi | Nakamura"
    " | Nguyen | Novak | Nowak | Obi | Ochieng | Okafor | Oliveira | Osei | Park | Patel | Pereira"
    " | Petrov | Popescu | Quinn | Rahman | Ramos | Reyes | Rossi | Santos | Sato | Schmidt"
    " | Shapiro | Silva | Singh | Sokolov | Suzuki | Tanaka | Teo | Thompson | Tran | Van Dijk"
    " | Vargas | Walsh | Wang | Weber | Yilmaz | Yamamoto | Zhang | Ziegler | Mensah | Nielsen"
    " | Torres | Zhou | O'Connor | Asante | Kovačević | Lindahl | Moyo | Halloran | Duarte"
)

# Slots every genre may use: a story character ({Name}) or a person in a title or biography.
_SHARED_WORDS: dict[str, tuple[str, ...]] = {
    "Name": FIRST_NAMES,
    "Surname": LAST_NAMES,
}

# fmt: off
_GENRE_DATA: dict[str, _Genre] = {
    "Science Fiction": _genre(
        6, (7, 19), "Fantasy | Thriller | Technology | Young Adult", "science fiction",
        "Ilse Varga-Moreno | Tomasz Achterberg | Chidera Okonjo-Hale | Rohan Mehta-Sorensen"
        " | Yuki Tanabe-Ross | Marguerite Solberg | Desmond Kwarteng | Lucía Ferreyra",
        titles=(
            "The Last {Signal} from {World}", "{World} Rising", "The {Adj} {Thing}",
            "Children of the {Thing}", "Beyond the {Thing} of {World}", "A {Adj} Orbit",
            "The {Name} Protocol", "{Signal} of the {Adj} Stars", "When {World} Went Dark",
            "The {Thing} Engine",
        ),
        sentences=(
            "When {hero} intercepts a transmission from {alien}, everything humanity believed"
            " about the universe begins to unravel.",
            "Set aboard {place}, the story follows {hero} racing against time as the"
            " life-support systems fail.",
            "A thrilling space opera about {theme}, {tech} and the fragile alliances that hold"
            " a galaxy together.",
            "Centuries after Earth went silent, {hero} discovers that {tech} has a terrible"
            " hidden price.",
            "First contact with {alien} forces {hero} to choose between loyalty to the crew and"
            " the survival of the species.",
            "Packed with hard science, orbital mechanics and {tech}, this novel imagines a"
            " future that feels frighteningly close.",
            "Across light-years of empty space, {Name} must navigate {place}, where every"
            " decision could doom the colony.",
            "It is a meditation on {theme}, told through the eyes of {hero} who wakes from"
            " cryosleep to find the starship changed.",
            "Readers who love interstellar adventures, alien worlds and big ideas about {theme}"
            " will be gripped until the final jump to hyperspace.",
            "As the fleet approaches {World}, a mysterious signal reveals that {alien} has been"
            " watching humanity for centuries.",
        ),
        Signal="Signal | Transmission | Broadcast | Message | Echo | Beacon | Distress Call"
               " | Pulse | Frequency | Light",
        World="Kepler | Proxima | Titan | Europa | Tau Ceti | Ganymede | Trappist | the Outer Rim"
              " | New Meridian | Vesta | Enceladus | Gliese | the Kuiper Belt | Ceres",
        Adj="Silent | Hollow | Quantum | Broken | Infinite | Drifting | Synthetic | Dark"
            " | Forgotten | Burning | Orbital | Second",
        Thing="Void | Singularity | Machine | Ark | Colony | Starship | Nebula | Station"
              " | Algorithm | Horizon | Swarm | Lattice | Relay",
        hero="a salvage pilot | an exiled xenobiologist | a rogue android | a young navigator"
             " | a disgraced starship captain | a colony engineer | a cybernetic detective"
             " | an AI that has just become self-aware | a linguist recruited by the military"
             " | a stowaway on a generation ship | a terraforming surveyor"
             " | a smuggler with a debt to pay",
        place="a generation ship drifting between stars | a mining colony on a frozen moon"
              " | an orbital habitat above a dying Earth"
              " | a research station at the edge of the solar system"
              " | a megacity ruled by algorithms | the ruins of an alien megastructure"
              " | a terraformed Mars | a space elevator towering over the equator"
              " | a wormhole relay station | an asteroid belt full of prospectors"
              " | a quarantined lunar base",
        alien="an ancient alien intelligence | a silent alien fleet | a hive-minded species"
              " | a machine civilisation | crystalline beings that speak in light"
              " | an alien probe | the first extraterrestrial signal ever recorded"
              " | a long-dead alien empire | a sentient nebula | visitors from another dimension",
        tech="faster-than-light travel | cryogenic sleep | neural implants | artificial gravity"
             " | a quantum drive | nanotechnology | mind uploading | terraforming engines"
             " | time dilation | genetic engineering | a Dyson swarm | sentient starships",
        theme="what it means to be human | the cost of progress | first contact"
              " | the loneliness of deep space | humanity's place among the stars"
              " | the ethics of artificial intelligence | survival against impossible odds"
              " | the limits of science | memory and identity | the fate of the last colony",
    ),
    "Fantasy": _genre(
        7, (7, 19), "Science Fiction | Young Adult | Romance | Horror", "epic fantasy",
        "Elowen Marchetti | Kwame Ashdown | Saoirse Delacroix-Byrne | Haruki Wenlock"
        " | Thandiwe Rookwood | Bastian Felgate | Amara Quillfeather | Ivar Thornquist",
        titles=(
            "The {Adj} Crown", "{Name} and the {Thing} of {Realm}", "The {Thing} of {Realm}",
            "Of {Abstract} and {Abstract2}", "The {Adj} Throne of {Realm}", "Heir of the {Thing}",
            "The Dragon of {Realm}", "{Realm}: The {Adj} Wars", "The Last {Mage} of {Realm}",
            "Where the {Adj} Rivers Run",
        ),
        sentences=(
            "In {place}, {hero} discovers a gift for {magic} that could save the realm or burn"
            " it to ashes.",
            "An epic quest across {Realm} pits {hero} against {villain} in a war that will"
            " decide the fate of every kingdom.",
            "Dragons, prophecies and {magic} collide in this sweeping fantasy about {theme}.",
            "When {villain} returns to claim the throne, {Name} must gather a fellowship of"
            " unlikely heroes.",
            "Rich worldbuilding brings {place} to life, with its own gods, languages, feuding"
            " houses and ancient magic.",
            "It is a spellbinding tale of swords and sorcery, courts and curses, told through the"
            " eyes of {hero}.",
            "To break the curse, {hero} must journey to {place} and bargain with {villain}.",
            "Perfect for readers who crave magic systems, epic battles and morally grey heroes"
            " wrestling with {theme}.",
            "The first book in a bestselling series, it begins with a stolen crown and ends with"
            " a prophecy fulfilled in fire.",
            "Beneath the enchantments lies a story about {theme}, and about what a kingdom owes"
            " to those who defend it.",
        ),
        Adj="Shattered | Emerald | Hollow | Ashen | Silver | Thorned | Sunken | Wandering"
            " | Obsidian | Crimson | Whispering | Forgotten",
        Thing="Sword | Crown | Grimoire | Oath | Thorn | Rune | Dragon | Tower | Chalice | Flame"
              " | Raven | Witch",
        Realm="Eldermoor | Valdris | the Ashen Isles | Caer Morwen | Thalindor | the Silverwood"
              " | Drakhollow | Mirrowmere | Kesh | the Northern Marches | Ostrava Vale | Ilyrath",
        Abstract="Ash | Thorns | Shadow | Embers | Storms | Bone | Starlight | Iron | Salt"
                 " | Smoke | Roses | Frost",
        Mage="Mage | Dragonrider | Witch | Sorcerer | Knight | Oracle | Shapeshifter"
             " | Runekeeper",
        hero="an orphaned farm girl | a reluctant heir | a disgraced knight"
             " | an apprentice sorcerer | a thief with a stolen relic | a half-elf ranger"
             " | a young witch | the last dragonrider | an exiled princess"
             " | a blacksmith's son with a secret gift"
             " | a mercenary sworn to an ancient oath | a changeling raised by wolves",
        villain="a tyrant sorcerer | the Lich King | a jealous goddess | an army of the undead"
                " | a corrupted high priestess | a shadow that devours kingdoms"
                " | a dragon awakened from a thousand-year sleep | the fae court"
                " | a usurper queen | a cult of blood mages",
        place="an enchanted forest | a floating citadel | a kingdom torn by civil war"
              " | the ruins of an elven city | a wizard academy | a cursed mountain pass"
              " | the halls of the dwarven kings | a land where magic is forbidden"
              " | the borderlands of the fae realm | a city of wandering towers",
        magic="blood magic | ancient runes | elemental sorcery | a forbidden spellbook"
              " | dragon fire | shapeshifting | necromancy | a prophecy written in starlight"
              " | a wish-granting relic | the favour of the old gods",
        theme="destiny and free will | the price of power | friendship forged in battle"
              " | loyalty and betrayal | the weight of a crown | courage in the face of darkness"
              " | the return of magic to the world",
    ),
    "Mystery": _genre(
        7, (7, 19), "Thriller | True Crime | Historical Fiction | Romance", "mystery",
        "Harriet Pennycross | Priya Castleton | Augustin Merriweather | Fiona Blackwood-Adeyemi"
        " | Teodor Lindqvist | Margot Ellery | Samuel Okoye-Finch | Beatrix Hollingsworth",
        titles=(
            "Murder at {Place}", "The {Thing} Affair", "Death in {Village}",
            "The Case of the {Adj} {Thing}", "A {Adj} Death", "{Name} Investigates",
            "The {Village} Poisonings", "Who Killed the {Victim}", "A Body in the {Spot}",
            "The Secret of {Place}",
        ),
        sentences=(
            "When {victim} is found dead in {place}, {sleuth} is the only one who suspects it"
            " was no accident.",
            "A cozy mystery full of gossip, scones and secrets, where every neighbour has a"
            " motive for murder.",
            "The only clue is {clue}, and {sleuth} must untangle a web of lies before the killer"
            " strikes again.",
            "Set in {place}, this classic whodunit keeps readers guessing until the final"
            " reveal in the drawing room.",
            "As the suspects gather for the reading of the will, {sleuth} realises that {clue}"
            " points to someone close to home.",
            "Inspector {Surname} returns in a puzzling case of poison, inheritance and"
            " small-town rivalries.",
            "A locked-room murder, a house full of suspects and {clue} make this a fiendishly"
            " clever puzzle.",
            "With its charming village setting and a satisfying twist, it is perfect for fans"
            " of traditional detective fiction.",
            "Between the church bazaar and the flower show, {Name} uncovers a decades-old crime"
            " that the whole village wanted forgotten.",
            "Every alibi seems watertight, yet {sleuth} is certain the murderer is hiding in"
            " plain sight.",
        ),
        Place="Hollowmere Manor | the Old Rectory | Ravensworth Hall | the Bell and Anchor"
              " | Penmorrow Cove | Fairhaven Abbey | the Grand Meridian Hotel"
              " | Thistlecombe Farm | the Lighthouse | Larkspur Lodge",
        Village="Little Wickham | Cranbourne Saint Mary | Lower Ashby | Millbrook | Kestrel Bay"
                " | Foxley Green | Hadleigh Cross | Nether Bramble",
        Adj="Poisoned | Vanishing | Silent | Crooked | Missing | Curious | Gilded | Drowned"
            " | Locked | Last",
        Thing="Teacup | Garden Party | Clockmaker | Heirloom | Inheritance | Manuscript"
              " | Brooch | Key | Portrait | Recipe",
        Victim="Vicar | Baker | Postmistress | Butler | Heiress | Gardener | Mayor | Bookseller",
        Spot="Library | Rose Garden | Bell Tower | Boathouse | Orchard | Wine Cellar"
             " | Village Pond | Greenhouse",
        sleuth="a retired schoolteacher with a sharp eye"
               " | an amateur sleuth who runs the village bookshop"
               " | a weary detective inspector | a nosy baker"
               " | a young constable on her first case"
               " | a private investigator with a tragic past | a crime-writing grandmother"
               " | a vicar with a talent for puzzles | a former barrister turned beekeeper"
               " | a cat-loving librarian",
        victim="the village vicar | a wealthy widow | the lord of the manor"
               " | a beloved local baker | a visiting art dealer | the headmaster"
               " | a reclusive novelist | the hotel manager | a gossiping postmistress"
               " | a retired colonel",
        place="a sleepy English village | a snowbound country house"
              " | a seaside bed and breakfast | a cosy village tea room | an Oxford college"
              " | a locked library | a fog-bound island | a vineyard in Provence"
              " | the annual village fete | a remote Scottish inn",
        clue="a torn letter | a missing key | a poisoned cup of tea | a cryptic crossword"
             " | a bloodstained glove | an unsigned will | muddy footprints in the garden"
             " | a stopped clock | a forged painting | a half-burned diary",
    ),
    "Thriller": _genre(
        7, (7, 19), "Mystery | Science Fiction | True Crime | Horror", "thriller",
        "Cole Mercer-Vance | Natalia Reznik | Jonah Stavros | Adaeze Calloway | Viktor Hale"
        " | Renata Cruz-Whitfield | Malik Denholm | Sloane Barrett",
        titles=(
            "The {City} Conspiracy", "{Number} Hours to {City}", "The {Adj} Agent",
            "Operation {Code}", "Dead {Thing}", "The {Adj} Witness", "Code Name {Code}",
            "Shadow {Thing}", "The {Role}", "Blind {Thing}",
        ),
        sentences=(
            "{hero} has forty-eight hours to stop {enemy} before {stakes} changes the world"
            " forever.",
            "A relentless, pulse-pounding thriller that races from {City} to {City2} as the body"
            " count rises.",
            "When {hero} uncovers {stakes}, the hunter becomes the hunted.",
            "Betrayed by the agency and framed for murder, {Name} must expose {enemy} while"
            " staying one step ahead of the assassins.",
            "Packed with espionage, double agents and breathtaking action, this is a"
            " high-stakes chase across the globe.",
            "Twist after twist, the conspiracy behind {stakes} reaches the highest levels of"
            " government.",
            "In a race against the clock, {hero} must trust no one, not even the people who"
            " trained them.",
            "Taut, cinematic and impossible to put down, it is a story of revenge, survival and"
            " {stakes}.",
            "From safe houses in {City} to a final showdown at sea, the tension never lets up.",
            "A psychological thriller about a marriage built on lies, a missing wife and a"
            " husband who knows more than he admits.",
        ),
        City="Berlin | Istanbul | Geneva | Lisbon | Kyiv | Cairo | Vienna | Hong Kong"
             " | Marseille | Buenos Aires | Prague | Washington",
        Adj="Silent | Rogue | Final | Last | Hidden | Sleeping | Burned | Perfect | Quiet"
            " | Unseen",
        Code="Nightfall | Blackout | Glass Viper | Iron Tide | Meridian | Checkmate | Wildfire"
             " | Longshot | Harbinger | Cold Harbour",
        Thing="Drop | Zone | Target | Asset | Signal | Ledger | Line | Switch | Spot | Channel",
        Role="Fixer | Handler | Negotiator | Courier | Informant | Sleeper | Analyst"
             " | Bodyguard",
        Number="Twelve | Forty-Eight | Seventy-Two | Six | Thirty-Six | Ninety",
        hero="a burned CIA agent | an ex-special forces sniper | a hostage negotiator"
             " | a cybersecurity analyst | an investigative journalist"
             " | a former assassin trying to go straight | a defence lawyer | an MI6 officer"
             " | a bodyguard to a billionaire | an FBI profiler | a disgraced Interpol agent"
             " | a whistleblower on the run",
        enemy="a shadowy arms dealer | a rogue intelligence unit | a hacker collective"
              " | a ruthless cartel | a corrupt senator | a private military contractor"
              " | a sleeper cell | a billionaire with a doomsday plan"
              " | a mole inside the agency | an assassin who never misses",
        stakes="a stolen nuclear launch code | a dirty bomb hidden in the capital"
               " | a plot to assassinate the president | an election about to be hacked"
               " | a kidnapped daughter | a flash drive everyone will kill for"
               " | a virus engineered in a secret lab | a coup in the making"
               " | a blackmail file that could topple governments"
               " | a cyberattack on the power grid",
    ),
    "Romance": _genre(
        8, (7, 19), "Historical Fiction | Young Adult | Fantasy | Literary Fiction", "romance",
        "Juliet Ashcombe | Camila Rosales-Hart | Theo Bellamy | Aisha Rahman-Cole"
        " | Poppy Lindenfeld | Gabriel Sauveterre | Mei Lin Hartwell | Rosalind Fairweather",
        titles=(
            "The {Adj} Season", "Love in {Place}", "A {Adj} Affair", "{Name}'s Promise",
            "The Summer of {Thing}", "Kiss Me at {Place}", "The {Job} and the {Job2}",
            "Second Chances at {Place}", "Forever, {Name}", "The Wedding at {Place}",
        ),
        sentences=(
            "When {hero} returns to {place}, the last person expected to walk through the door"
            " is {love}.",
            "A heartwarming story of {trope}, full of banter, longing and a happily ever after.",
            "Sparks fly between {hero} and {love}, but old wounds and family secrets threaten to"
            " keep them apart.",
            "Set in {place}, this swoon-worthy romance is about falling in love when you least"
            " expect it.",
            "What begins as {trope} quickly turns into something neither of them can resist.",
            "Steamy, funny and full of heart, it is the perfect beach read for anyone who"
            " believes in second chances.",
            "{Name} swore off love forever, until one summer in {place} changed everything.",
            "A tender story of passion, heartbreak and courage, with a couple you will root for"
            " on every page.",
            "Between stolen kisses and meddling relatives, {hero} must decide whether to risk"
            " everything for love.",
            "Readers who adore {trope}, slow-burning chemistry and a guaranteed happy ending"
            " will fall hard for this one.",
        ),
        Adj="Sweetest | Perfect | Unexpected | Secret | Accidental | Wild | Golden | Midwinter"
            " | Reckless | Borrowed",
        Place="Willow Creek | the Lavender Inn | Seaview Cottage | the Little Paris Bakery"
              " | Moonstone Bay | Rosehill Farm | the Corner Bookshop | Amalfi"
              " | Snowberry Lodge | Cedar Falls",
        Thing="Wildflowers | Lemon Trees | Starlight | Yes | Second Chances | Salt Water"
              " | Sunflowers | Love Letters | Secrets",
        Job="Duke | Baker | Bodyguard | Billionaire | Bride | Rancher | Florist | Fake Fiancé"
            " | Rival | Wallflower",
        hero="a small-town florist | a burned-out city lawyer | a widowed single father"
             " | a brooding duke | a pastry chef with a broken heart"
             " | a famous rock star in hiding | a grumpy bookshop owner"
             " | an ambitious wedding planner | a firefighter | a billionaire heir"
             " | a country veterinarian | a fake fiancée for hire",
        love="the one who got away | a childhood best friend | a charming stranger"
             " | a fierce business rival | the brooding new neighbour"
             " | a best friend's older brother | a rugged cowboy"
             " | the prince nobody was supposed to marry | an ex who never stopped caring"
             " | the single parent next door",
        place="a seaside town | a lavender farm in Provence | a snowed-in mountain lodge"
              " | a vineyard in Tuscany | a tiny bakery in Paris | a Regency ballroom"
              " | a small town at Christmas | a dude ranch in Montana | a Scottish castle"
              " | a bustling New York office",
        trope="enemies to lovers | fake dating | second-chance romance"
              " | a marriage of convenience | forbidden love | friends to lovers"
              " | grumpy meets sunshine | a holiday fling | a slow-burn romance"
              " | a wedding-season rivalry",
    ),
    "Historical Fiction": _genre(
        5, (7, 19), "History | Romance | Literary Fiction | Mystery", "historical fiction",
        "Eleanor Voss-Tremayne | Matteo Rinaldi-Shaw | Agnieszka Wolinska | Edmund Carrow"
        " | Imani Beauchamp | Konrad Ostheim | Leonora Valcourt | Rafael Almeida-Grey",
        titles=(
            "The {Job}'s Daughter", "The {Adj} Garden", "A {Thing} in {Place}",
            "The Last Days of {Place}", "The {Job} of {Place}", "Letters from {Place}",
            "The {Adj} Winter", "Under a {Adj} Sky", "The House on {Street}",
            "Daughters of {Place}",
        ),
        sentences=(
            "Set during {era}, it follows {hero} whose courage will be tested by war, famine and"
            " betrayal.",
            "Based on true events, this sweeping novel brings {place} vividly to life.",
            "It is a story of {theme}, spanning three generations and two continents.",
            "Meticulously researched, it captures the sights, sounds and politics of {era} in"
            " rich detail.",
            "In {place}, {hero} keeps a secret that could change the course of history.",
            "Letters discovered in an attic in the present day reveal what happened to {Name}"
            " during {era}.",
            "Fans of historical epics will savour its kings and commoners, battles and"
            " ballrooms, and a love that outlasts the war.",
            "Through the eyes of {hero}, the novel explores {theme} against the backdrop of"
            " {era}.",
            "It is a haunting portrait of ordinary people caught in extraordinary times.",
            "From {place} to {place2}, a forbidden love unfolds as empires rise and fall.",
        ),
        Job="Lighthouse Keeper | Silk Merchant | Clockmaker | Cartographer | Midwife"
            " | Codebreaker | Glassblower | Spy | Bookbinder | Apothecary",
        Adj="Paper | Forgotten | Winter | Amber | Last | Burning | Hidden | Iron | Lost | Bitter",
        Thing="Candle | Letter | Portrait | Rose | Promise | Secret | Map | Song",
        Place="Paris | Leningrad | Vienna | Shanghai | Constantinople | Bletchley | Florence"
              " | Kraków | Alexandria | Edinburgh | Lisbon | Savannah",
        Street="Hollow Lane | Canal Street | the Via Giulia | Rue des Martyrs | Fleet Street"
               " | Karlova Street | Cheapside",
        hero="a young nurse on the Western Front | a codebreaker at Bletchley Park"
             " | a Venetian glassblower's apprentice | a Tudor lady-in-waiting"
             " | a Resistance courier in occupied France | a Victorian orphan"
             " | a Viking shieldmaiden | a Roman legionary | a silk merchant's widow"
             " | a Jewish violinist in Vienna | a suffragette | a Gold Rush prospector",
        era="the Second World War | the French Revolution | Tudor England | ancient Rome"
            " | the Victorian age | the Great Depression | the Ming dynasty | the Viking age"
            " | the Renaissance | the American Civil War | the Blitz | the Jazz Age",
        place="occupied Paris | a country estate in Edwardian England"
              " | the court of Henry VIII | besieged Leningrad | the trenches of the Somme"
              " | Renaissance Florence | a plantation in the American South | a whaling ship"
              " | Imperial Vienna | the Silk Road | a medieval abbey | Victorian London",
        theme="love and loss in wartime | the resilience of women | survival and sacrifice"
              " | a family secret buried for generations | courage under occupation"
              " | class, duty and desire | the cost of war",
    ),
    "Horror": _genre(
        4, (7, 19), "Thriller | Fantasy | Mystery", "horror",
        "Silas Ravenhurst | Morwenna Hatch | Ezra Blackthorn | Ingrid Skalla | Dolores Marrow"
        " | Caspian Wrenfield | Temitope Crane | Jun-ho Mireault",
        titles=(
            "The {Adj} House", "{Thing} in the Walls", "The Haunting of {Place}",
            "They Came from {Place}", "The {Thing} Beneath", "Do Not Open the {Object}",
            "{Adj} Hollow", "The Night the {Thing} Woke", "Bone {Object}",
            "What Waits in {Place}",
        ),
        sentences=(
            "When {hero} moves into {place}, the whispers in the walls begin on the very first"
            " night.",
            "A chilling tale of {evil}, dread and the terrible things people do to survive.",
            "Something is waiting in the dark, and {hero} is running out of places to hide.",
            "Blood-curdling and atmospheric, this ghost story will make you sleep with the"
            " lights on.",
            "The townspeople know about {evil}, but nobody speaks of the children who went"
            " missing every thirty years.",
            "It is a terrifying descent into madness, possession and gothic horror set in"
            " {place}.",
            "{Name} thought the nightmares were only dreams until the bodies started appearing.",
            "Part haunted-house story, part creature feature, it delivers scream after scream.",
            "As the fog rolls in over {place}, {hero} realises that {evil} has followed the"
            " family home.",
            "Fans of supernatural horror, slow-building dread and shocking gore will devour it"
            " in one sitting.",
        ),
        Adj="Hungry | Rotting | Pale | Drowned | Crooked | Silent | Sleepless | Hollow"
            " | Bleeding | Whispering",
        Thing="Teeth | Something | Whispers | Crawlers | Hunger | Mothers | Children | Dead"
              " | Shape | Pale Man",
        Place="Blackwater Asylum | Hallow Creek | the Marsh House | Ashgrove Sanatorium"
              " | Dunmere Island | the Old Quarry | Cold Spring | Harrow Lane"
              " | Saint Agnes Orphanage",
        Object="Cellar | Door | Box | Attic | Mirror | Well | Coffin | Doll",
        hero="a grieving widow | a paranormal investigator | a family of five"
             " | a skeptical priest | a night-shift nurse | a group of teenagers"
             " | a true-crime podcaster | a lighthouse keeper | a young mother"
             " | an exorcist who has lost her faith",
        evil="a demon | a vengeful ghost | something ancient in the woods | a cursed doll"
             " | a cult that never died | a creature that feeds on fear"
             " | the dead who will not stay buried | a malevolent presence"
             " | a shapeshifting thing | a haunted mirror",
        place="an abandoned asylum | a crumbling Victorian mansion"
              " | a remote cabin in the woods | a small town with a dark secret"
              " | an isolated island | a derelict hospital | a haunted boarding school"
              " | a sunken church | an empty hotel in winter"
              " | a farmhouse at the edge of the cornfields",
    ),
    "Literary Fiction": _genre(
        6, (8, 19), "Historical Fiction | Poetry | Romance", "literary fiction",
        "Clementine Aubrey-Nash | Farid Kassabian | Helena Strand | Oluwaseun Marlowe"
        " | Anouk Verhaegen | Julian Aldana | Maren Eskildsen | Tobias Wren",
        titles=(
            "The {Adj} Year", "A {Thing} of {Abstract}", "The Weight of {Abstract}",
            "All the {Adj} Hours", "{Name}, Unfinished", "What the {Thing} Remembers",
            "The Distance Between {Plural}", "Notes on {Abstract}", "The Quiet {Thing}",
            "Everything We {Verb}",
        ),
        sentences=(
            "A luminous, quietly devastating novel about {theme}.",
            "Over one long summer in {place}, {hero} confronts the secrets that have shaped a"
            " lifetime.",
            "In lyrical, precise prose, the author traces the inner lives of {hero} and the"
            " people they have failed.",
            "It is a meditation on {theme}, told in fragments of memory that shift between past"
            " and present.",
            "Shortlisted for major prizes, it has been hailed as a masterpiece of contemporary"
            " fiction.",
            "Nothing dramatic happens, and yet everything changes, as {Name} learns to live with"
            " loss.",
            "Moving between {place} and {place2}, the novel asks what we owe to the people we"
            " love.",
            "Intimate and unsentimental, it explores {theme} with great compassion and wit.",
            "A family saga of inheritance, regret and the stories we tell ourselves to survive.",
            "Readers of character-driven literary fiction will find themselves thinking about"
            " it for weeks.",
        ),
        Adj="Quiet | Unremembered | Long | Blue | Ordinary | Borrowed | Last | Salt | Burning"
            " | Tender",
        Thing="River | House | Garden | Orchard | Sea | Kitchen | Piano | Lake | Harbour"
              " | Field",
        Abstract="Small Things | Grief | Light | Water | Tenderness | Silence | Absence"
                 " | Belonging | Memory | Leaving",
        Plural="Rivers | Sisters | Islands | Strangers | Seasons | Us",
        Verb="Lost | Kept | Forgot | Inherited | Left Behind | Burned",
        hero="a grieving daughter | an aging pianist | two estranged brothers"
             " | a young immigrant | a widowed schoolteacher | a painter losing her sight"
             " | a family of emigrants | an unhappily married couple"
             " | a former child prodigy | a translator in a foreign city",
        place="a crumbling family home | a small fishing village | post-war Dublin"
              " | a Lagos apartment block | an island off the coast of Maine"
              " | a Mumbai tenement | a university town in the Midwest | a Berlin flat"
              " | a farmhouse in the Karoo | a seaside boarding house",
        theme="grief and memory | the quiet unravelling of a marriage"
              " | identity and belonging | the bonds between mothers and daughters"
              " | class and ambition | exile and home | the passage of time"
              " | guilt and forgiveness | the fragility of love | how families remember",
    ),
    "Young Adult": _genre(
        5, (8, 18), "Fantasy | Science Fiction | Romance | Graphic Novels", "young adult fiction",
        "Zoe Kettering | Marcus Obi-Lane | Luna Esperanza | Riley Thackeray | Jade Nakamura-Fox"
        " | Kai Ballard | Ava Delgado-Rhys | Finn Castellane",
        titles=(
            "The {Adj} Year of {Name}", "{Name} Against the World", "We Were {Adj}",
            "The {Thing} Trials", "Everything I Never {Verb}", "The {Adj} Academy",
            "Girls of the {Thing}", "Last Summer at {Place}", "The Rebels of {Place}",
            "{Adj} Like Us",
        ),
        sentences=(
            "{hero} has one year left before graduation and a secret that could blow up"
            " everything.",
            "A coming-of-age story about {theme}, high school drama and the messy business of"
            " growing up.",
            "In {world}, {hero} is chosen for a deadly trial that only one contestant will"
            " survive.",
            "Funny, raw and deeply honest, it captures the heartbreak and joy of being a"
            " teenager.",
            "When {Name} meets the mysterious new student, first love and old friendships"
            " collide.",
            "Set in {world}, the story follows teenagers who refuse to accept the rules adults"
            " have written for them.",
            "It is a powerful novel about {theme} that will speak to every teen who has ever"
            " felt like an outsider.",
            "Told in alternating chapters, it follows two teenagers whose lives change over one"
            " unforgettable summer.",
            "Perfect for teen readers who love romance, rebellion and friendships that feel like"
            " family.",
            "Between exams, parties and group chats, {hero} learns that being brave sometimes"
            " means being vulnerable.",
        ),
        Adj="Brave | Impossible | Electric | Unbreakable | Invisible | Reckless | Wild"
            " | Lonely | Fearless | Broken",
        Thing="Ember | Moon | Crown | Glass | Storm | Shadow | Wolf | Star | Thorn | Tide",
        Place="Ridgemont High | Camp Evergreen | the Citadel | Silver Lake"
              " | Blackthorn Academy | New Haven City | the Outlands | Cedar Cove",
        Verb="Said | Told You | Forgot | Wanted | Deserved | Lost",
        hero="a sixteen-year-old outsider | a shy theatre kid | the new girl at school"
             " | a teenage hacker | a star quarterback with a secret"
             " | a girl who can see the future | two best friends"
             " | a rebel in a dystopian city | a boy who hears voices from the river"
             " | a scholarship student | a competitive swimmer"
             " | a teen with a chronic illness",
        world="a dystopian city divided by walls | an elite boarding school"
              " | a small town where nothing happens | a magical academy"
              " | a summer camp by the lake | a post-apocalyptic wasteland"
              " | a high school full of secrets"
              " | a kingdom where teenagers must compete for their lives",
        theme="first love | coming of age | friendship and betrayal | finding your voice"
              " | identity and self-acceptance | grief and healing | standing up to bullies"
              " | family expectations | rebellion against a corrupt system"
              " | growing up queer in a small town",
    ),
    "Children's": _genre(
        5, (5, 14), "Young Adult | Graphic Novels | Poetry", "children's stories",
        "Poppy Marchbank | Benji Tumbleton | Nia Featherstone | Oscar Pimblett"
        " | Lila Sunderland | Arjun Puddlecombe | Maisie Honeywell | Kofi Applegate",
        titles=(
            "{Name} and the {Adj} {Animal}", "The {Animal} Who Wanted to {Verb}",
            "Goodnight, {Name}", "The Great {Thing} Adventure", "{Name}'s Magic {Thing}",
            "Where Do {Animal}s Sleep", "Hooray for {Name}", "The {Adj} Tree House",
            "{Animal}s in Pyjamas", "The {Adj} {Animal} Goes to School",
        ),
        sentences=(
            "Join {character} on a giggly adventure to {place} in this delightful picture book.",
            "With bright, colourful illustrations and rhyming text, it is perfect for reading"
            " aloud at bedtime.",
            "Little readers will learn about {lesson} as {character} discovers that everyone"
            " needs a friend.",
            "A gentle, funny story for children aged three to seven about {lesson}.",
            "When {character} loses a favourite toy, everyone in {place} joins the search.",
            "Packed with lift-the-flap surprises, silly sounds and a happy ending, it will have"
            " toddlers asking for it again and again.",
            "{Name} the {Animal} learns that {lesson} can be the greatest adventure of all.",
            "A heartwarming bedtime story about family, friendship and being yourself.",
            "Early readers will love the short chapters, funny pictures and the lovable"
            " characters of {place}.",
            "Parents and teachers can use this story to talk with young children about"
            " {lesson}.",
        ),
        Animal="Dragon | Hedgehog | Penguin | Bear | Fox | Elephant | Dinosaur | Rabbit | Owl"
               " | Octopus | Giraffe | Badger",
        Adj="Very Sleepy | Grumpy | Tiny | Marvellous | Brave | Giggly | Upside-Down"
            " | Rainbow | Wobbly | Busy",
        Thing="Balloon | Cupcake | Rocket | Umbrella | Treasure Map | Sock | Paintbrush"
              " | Tractor | Kite | Snowman",
        Verb="Fly | Dance | Whistle | Swim | Roar | Count to Ten | Share | Sleep",
        character="a little hedgehog | a shy dragon | a curious penguin"
                  " | a brave little girl | a tiny mouse | a grumpy bear | a clumsy dinosaur"
                  " | a friendly monster | two best friends | a lost teddy bear"
                  " | a baby elephant | a kind-hearted fox",
        place="the enchanted forest | a busy farm | the bottom of the sea"
              " | a magical tree house | the playground | the zoo | a snowy mountain"
              " | the moon | grandma's garden | a sleepy little town",
        lesson="sharing | being kind | making new friends | counting and colours"
               " | being brave at bedtime | saying sorry | trying new foods | starting school"
               " | the alphabet | looking after the planet",
    ),
    "Biography": _genre(
        4, (14, 34), "History | Business | Psychology | True Crime", "biography",
        "Catherine Aldridge | Walter Prescott-Yi | Simone Achterhof | Nikhil Rao-Bennett"
        " | Gwendolyn Ashby | Patrick O'Halloran | Mirela Dragomir | Thomas Eberhardt",
        titles=(
            "{Name} {Surname}: A Life", "The {Adj} Life of {Name} {Surname}", "Becoming {Name}",
            "{Role}: The Story of {Name} {Surname}", "Against All Odds: {Name} {Surname}",
            "The Woman Who {Did}", "The Man Who {Did}", "A Life in {Field}",
            "My Years in {Field}", "Portrait of a {Role}",
        ),
        sentences=(
            "This definitive biography tells the life story of {subject}, from a childhood in"
            " {origin} to {achievement}.",
            "Drawing on private letters, diaries and hundreds of interviews, the author paints"
            " an intimate portrait of a complicated figure.",
            "It traces the triumphs, scandals and personal sacrifices behind {achievement}.",
            "Born in {origin}, {Name} {Surname} overcame poverty and prejudice to become"
            " {subject}.",
            "A candid memoir of fame, family and resilience, told in an unforgettable voice.",
            "The book reveals the private person behind the public legend, including the"
            " failures that shaped a career.",
            "Readers learn how one determined individual rose from obscurity to change an"
            " entire industry.",
            "Richly illustrated with photographs, it follows a remarkable life across eight"
            " decades and three continents.",
            "Part memoir, part history, it shows how {subject} inspired a generation.",
            "An inspiring true story of ambition, courage and the price of {achievement}.",
        ),
        Role="Rebel | Pioneer | Visionary | Champion | Maverick | Reformer | Trailblazer"
             " | Virtuoso",
        Adj="Extraordinary | Unlikely | Remarkable | Restless | Brilliant | Secret | Fearless"
            " | Turbulent",
        Did="Mapped the Ocean | Built the Bridge | Flew Alone | Changed Medicine"
            " | Sang for Freedom | Challenged an Empire | Cracked the Code"
            " | Climbed Everest Twice",
        Field="Music | Politics | Medicine | Science | Film | Sport | Fashion | Diplomacy",
        subject="a pioneering surgeon | a jazz legend | a civil rights leader"
                " | a world champion boxer | a reclusive inventor | a celebrated chef"
                " | a Nobel Prize-winning chemist | an Olympic sprinter | a fashion designer"
                " | a wartime prime minister | a silent film star | a mountaineer",
        origin="a coal-mining town in Wales | the back streets of Naples"
               " | a sharecropper's cabin in Mississippi | a village in rural India"
               " | a Jewish family in prewar Vienna | a fishing community in Nova Scotia"
               " | an orphanage in Dublin | a farm in Kenya",
        achievement="founding a global company | breaking a world record"
                     " | transforming modern medicine | leading a nation through war"
                     " | winning three Olympic gold medals | composing a famous symphony"
                     " | fighting for equal rights | revolutionising fashion",
    ),
    "History": _genre(
        4, (16, 44), "Biography | Historical Fiction | Travel | Philosophy", "history",
        "Bernard Lockhart | Ayesha Siddiqui-Marsh | Henrik Valdemarsson | Josephine Carrick"
        " | Leopold Fenwick | Yaw Boateng-Reid | Cordelia Whitmore | Stanislav Horak",
        titles=(
            "The Fall of {Empire}", "{Empire}: A New History", "The {Adj} Century",
            "Empire of {Thing}", "The Road to {Event}",
            "A History of the World in {Number} {Plural}", "The Age of {Thing}",
            "{Event}: The Untold Story", "Blood and {Thing}", "The Making of {Empire}",
        ),
        sentences=(
            "A gripping narrative history of {era}, drawing on newly opened archives and"
            " eyewitness accounts.",
            "The historian shows how {topic} shaped the modern world in ways we still feel"
            " today.",
            "From battlefields to royal courts, it brings to life the {actor} who made history.",
            "Readers will learn why {Empire} rose to dominate its world and how it finally"
            " collapsed.",
            "With vivid storytelling and rigorous scholarship, the book challenges the myths"
            " surrounding {era}.",
            "It explores {topic} through maps, chronicles and archaeological discoveries.",
            "Spanning centuries and continents, this is history on an epic scale.",
            "The author reconstructs the decisions, alliances and blunders that led to {Event}.",
            "It is an accessible introduction to {era} for anyone curious about the past.",
            "It reveals the forgotten lives of {actor} whose choices changed the course of"
            " civilisation.",
        ),
        Empire="Rome | Byzantium | the Ottoman Empire | the Mongol Empire | Carthage"
               " | the British Empire | the Aztec Empire | the Habsburgs | Venice"
               " | the Soviet Union | Imperial China | the Hanseatic League",
        Adj="Long | Bloody | Forgotten | Golden | Short | Revolutionary | Broken | Iron",
        Thing="Silk | Salt | Iron | Gold | Sugar | Spices | Revolution | Steam | Faith | Paper",
        Event="Waterloo | Stalingrad | the Revolution | the Great War | Partition | Hastings"
              " | the Armistice | Versailles | the Reformation | the Moon Landing",
        Number="Twelve | Ten | Twenty | One Hundred | Fifty | Seven",
        Plural="Maps | Battles | Objects | Ships | Meals | Journeys | Cities | Treaties",
        era="the fall of the Roman Empire | the Industrial Revolution | the First World War"
            " | the Cold War | the Age of Exploration | the medieval world | the Renaissance"
            " | the rise of the Mongols | the French Revolution | ancient Egypt"
            " | the Atlantic slave trade | the collapse of the Soviet Union",
        actor="emperors and peasants | generals and diplomats | merchants and sailors"
              " | kings, popes and rebels | soldiers and spies | explorers and conquerors"
              " | ordinary men and women",
        topic="trade routes | warfare and diplomacy | religion and power | plague and famine"
              " | empires and colonies | revolutions and reform | technology and industry"
              " | archaeology and ancient ruins",
    ),
    "Science": _genre(
        3, (15, 39), "Technology | Health & Fitness | Philosophy | History", "popular science",
        "Miriam Castellanos | Arthur Penhaligon | Ravi Subramaniam-Hale | Sofia Lindgren-Park"
        " | Elliot Nakashima | Grace Oyelowo-Dunn | Felix Amsel | Priyanka Duvall",
        titles=(
            "The {Adj} Universe", "The Hidden Life of {Plural}", "A Brief History of {Thing}",
            "{Thing}: The Science of {Topic}", "Why {Plural} Matter", "The {Thing} Code",
            "Inside the {Thing}", "The Secret World of {Plural}", "What the {Plural} Know",
            "The Quantum {Thing}",
        ),
        sentences=(
            "A lively, accessible tour of {field}, explaining {idea} without a single equation.",
            "The author, a working scientist, shows how {scientist} uncovered {idea} through"
            " experiment and observation.",
            "Readers will learn what {idea} reveals about the universe, the planet and"
            " ourselves.",
            "From the smallest particles to the largest galaxies, it explains the laws of nature"
            " with wit and clarity.",
            "It tells the story of the experiments, rivalries and lucky accidents behind {idea}.",
            "Packed with research and data, the book shows how {field} is transforming"
            " medicine, energy and our understanding of life.",
            "A fascinating exploration of the evidence for {idea} and the open questions that"
            " remain.",
            "Clear diagrams and everyday examples make complex ideas in {field} easy to grasp.",
            "It is popular science at its best: curious, rigorous and full of wonder.",
            "It asks how we know what we know, and answers with the latest discoveries in"
            " {field}.",
        ),
        Adj="Elegant | Expanding | Restless | Invisible | Improbable | Living | Strange"
            " | Accidental",
        Plural="Cells | Atoms | Fungi | Black Holes | Bacteria | Genes | Stars | Octopuses"
               " | Trees | Neurons | Volcanoes | Bees",
        Thing="Gene | Cosmos | Brain | Ocean | Atom | Climate | Evolution | Light | Time"
              " | Matter",
        Topic="Everything | Life | Consciousness | Decay | Discovery | Change | Nothing",
        field="quantum physics | evolutionary biology | neuroscience | astrophysics"
              " | genetics | climate science | chemistry | marine biology | palaeontology"
              " | microbiology | geology | mathematics",
        idea="the Big Bang | natural selection | the structure of DNA | dark matter"
             " | the theory of relativity | plate tectonics | the origin of life | black holes"
             " | the human microbiome | entropy | CRISPR gene editing | the periodic table",
        scientist="physicists | biologists | astronomers | chemists | geneticists"
                  " | neuroscientists | field researchers | mathematicians",
    ),
    "Philosophy": _genre(
        2, (12, 34), "Psychology | Science | Self-Help | History", "philosophy",
        "Augusta Meinhardt | Soren Kalvik | Isidore Lamontagne | Amina Haddad-Ross"
        " | Cassius Fairlie | Beatriz Oyarzun | Hugo Wetherby | Lin Zhaoyun",
        titles=(
            "On {Abstract}", "The Problem of {Abstract}", "A Short Guide to {Abstract}",
            "The Consolations of {Abstract}", "Thinking About {Abstract}", "The {Adj} Life",
            "What We Owe to {Plural}", "Being and {Abstract}", "The Examined {Thing}",
            "{Abstract} and {Abstract2}",
        ),
        sentences=(
            "An engaging introduction to {school}, asking {question}.",
            "Drawing on {thinker} and {thinker2}, the author builds a clear argument about"
            " ethics, reason and the good life.",
            "The book examines {question} through thought experiments, paradoxes and everyday"
            " dilemmas.",
            "Readers will learn to think more clearly about morality, knowledge and the meaning"
            " of existence.",
            "It is a rigorous yet readable essay on {school} and its relevance to modern life.",
            "It traces a single idea from {thinker} to contemporary debates in {school}.",
            "Part history of ideas, part practical guide, it shows how ancient wisdom can help"
            " us live with uncertainty.",
            "Careful and provocative, the argument challenges common assumptions about truth,"
            " freedom and the self.",
            "Each chapter takes one great question, such as {question}, and follows the"
            " reasoning wherever it leads.",
            "For students and curious readers alike, it is a lucid companion to the big"
            " questions of metaphysics and ethics.",
        ),
        Abstract="Freedom | Virtue | Justice | Happiness | Time | Death | Meaning | Truth"
                 " | Doubt | Beauty | Mind | Free Will",
        Adj="Good | Examined | Stoic | Reasonable | Ethical | Contemplative | Authentic"
            " | Simple",
        Plural="Strangers | Animals | Each Other | Future Generations | Machines | the Dead",
        Thing="Life | Mind | Self | Question",
        school="Stoicism | existentialism | utilitarianism | Buddhist philosophy"
               " | ancient Greek philosophy | phenomenology | moral philosophy"
               " | political philosophy | philosophy of mind | Confucian ethics | logic"
               " | epistemology",
        question="what makes a life worth living | whether free will exists"
                 " | how we should treat animals | what we can truly know"
                 " | the nature of consciousness | what justice requires of us"
                 " | how to face death | whether morality is objective"
                 " | what it means to be a person | how to live well with others",
        thinker="Socrates | Aristotle | Kant | Seneca | Spinoza | Hume | Confucius"
                " | Simone de Beauvoir | Nietzsche | Marcus Aurelius | Hannah Arendt"
                " | Kierkegaard",
    ),
    "Psychology": _genre(
        3, (13, 32), "Self-Help | Philosophy | Science | Business", "psychology",
        "Rebecca Lindqvist-Moore | Omar Farouk-Bell | Harriet Sandoval | Jonas Birkeland"
        " | Keiko Marsh-Tanaka | Daniel Forsythe-Okeke | Lydia Hammond | Mateus Correia",
        titles=(
            "The {Adj} Mind", "Why We {Verb}", "The Science of {Abstract}",
            "Thinking in {Plural}", "The {Thing} Effect", "Inside the {Adj} Brain",
            "Understanding {Abstract}", "The Psychology of {Abstract}", "Mind over {Thing}",
            "The {Adj} Self",
        ),
        sentences=(
            "Drawing on {research}, this book explains how {topic} shapes the way we think,"
            " feel and behave.",
            "A clinical psychologist reveals what really happens in the mind during moments of"
            " stress and fear.",
            "Readers will learn why the brain takes shortcuts and how {topic} leads even smart"
            " people astray.",
            "It explores {topic} through fascinating case studies and the latest findings in"
            " neuroscience.",
            "An accessible guide to mental health, therapy and the emotional patterns we"
            " inherit from childhood.",
            "It shows why we remember some things and forget others, and what that says about"
            " identity.",
            "The author combines {research} with practical insights into behaviour, emotion and"
            " relationships.",
            "Full of surprising experiments, it changes how you see your own mind and the"
            " people around you.",
            "From {topic} to {topic2}, it maps the hidden forces behind our everyday choices.",
            "It is a compassionate, evidence-based look at the psychology of {topic}.",
        ),
        Adj="Anxious | Divided | Social | Predictive | Resilient | Unconscious | Curious"
            " | Wandering",
        Verb="Remember | Forget | Lie | Procrastinate | Dream | Obey | Panic | Believe",
        Abstract="Attention | Memory | Motivation | Persuasion | Trauma | Grief | Happiness"
                 " | Belonging | Decision-Making | Habits",
        Plural="Biases | Patterns | Feelings | Stories",
        Thing="Bystander | Placebo | Anchor | Mirror | Spotlight | Halo",
        topic="cognitive biases | memory and forgetting | anxiety and depression"
              " | child development | the unconscious mind | emotional intelligence"
              " | personality | trauma and recovery | decision-making"
              " | attachment in relationships | motivation | sleep and dreams",
        research="landmark experiments | decades of clinical research | brain-imaging studies"
                 " | case studies from the therapist's couch | behavioural economics"
                 " | cross-cultural studies",
    ),
    "Business": _genre(
        3, (16, 39), "Self-Help | Technology | Psychology | Biography", "business",
        "Grant Whitaker | Nadia Kovalenko | Ethan Pryce-Adomako | Sunita Verghese"
        " | Marcus Feldhaus | Olivia Tran-Barlow | Richard Ashgrove | Carmen Villalobos-Reed",
        titles=(
            "The {Adj} Company", "{Number} Rules for {Thing}", "The {Thing} Playbook",
            "Leading from the {Position}", "The {Adj} Advantage", "Scaling {Thing}",
            "The Art of {Thing}", "Radical {Thing}", "The {Adj} Founder",
            "Winning the {Thing} Game",
        ),
        sentences=(
            "A practical playbook on {topic} for {reader} who want to build companies that"
            " last.",
            "Based on interviews with hundreds of CEOs, it reveals the strategies behind the"
            " world's most successful businesses.",
            "The author tells how {company} turned crisis into growth, and what every leader can"
            " learn from it.",
            "Readers will learn how to set goals, manage teams, negotiate deals and make better"
            " decisions under pressure.",
            "It is full of case studies, frameworks and hard-won lessons on {topic} and"
            " {topic2}.",
            "It explains how markets, money and management really work, in plain language.",
            "Essential reading for {reader} navigating competition, disruption and the future"
            " of work.",
            "From the first pitch deck to the stock market listing, it follows the rise and"
            " near-collapse of {company}.",
            "A no-nonsense guide to profit, productivity and customer loyalty.",
            "It shows that great {topic} is not about charisma but about systems, culture and"
            " trust.",
        ),
        Adj="Lean | Resilient | Remote | Customer-Obsessed | Agile | Frugal | Purpose-Driven"
            " | Unfair | Invisible | Long-Term",
        Thing="Growth | Negotiation | Strategy | Startups | Leadership | Pricing | Hiring"
              " | Sales | Innovation | Branding | Culture | Investing",
        Number="Seven | Ten | Twelve | Five | Nine",
        Position="Middle | Front | Inside | Edge",
        topic="leadership | startup strategy | marketing | negotiation | corporate culture"
              " | personal finance | investing | innovation | management | sales"
              " | entrepreneurship | supply chains",
        company="a Silicon Valley unicorn | a family-owned manufacturer | a global retailer"
                " | a scrappy startup | a Fortune 500 company"
                " | a bootstrapped software business | a struggling airline"
                " | a boutique consultancy",
        reader="founders | managers | executives | investors | entrepreneurs"
               " | small business owners | team leaders | marketers",
    ),
    "Self-Help": _genre(
        4, (11, 27), "Psychology | Health & Fitness | Business | Philosophy", "self-help",
        "Jenna Brightwater | Malcolm Rivers-Kent | Serena Oduya | Tyler Ashfield"
        " | Maya Lindholm | Dev Karnik | Hope Castellano | Brendan Mulcahy",
        titles=(
            "The {Adj} Habit", "You Are {Adj}", "{Number} Days to a {Better} You",
            "The Art of {Gerund}", "Stop {Gerund} and Start {Gerund2}", "Permission to {Verb}",
            "The {Thing} Reset", "Small Steps, {Adj} Life", "How to {Verb} Without {Gerund}",
            "The {Adj} Morning",
        ),
        sentences=(
            "This empowering guide shows you how to {goal} with small changes you can start"
            " today.",
            "Through {tool} and real-life stories, the author helps readers {goal}.",
            "If you feel stuck, overwhelmed or trapped in negative thinking, this book offers a"
            " path to a calmer, more confident life.",
            "You will learn to {goal}, rewire your mindset and build a life that feels like your"
            " own.",
            "Warm, practical and motivating, it combines {tool} with insights from positive"
            " psychology.",
            "Each chapter ends with {tool} that turn big ideas into lasting change.",
            "It is a life coach's step-by-step plan for personal growth, self-care and inner"
            " peace.",
            "It is a gentle reminder that self-worth is not earned, and that rest is productive"
            " too.",
            "Readers learn how to {goal} and why motivation follows action, not the other way"
            " round.",
            "The perfect companion for anyone ready to change their habits, their thinking and"
            " their life.",
        ),
        Adj="Tiny | Brave | Enough | Calm | Unstoppable | Gentle | Joyful | Intentional"
            " | Confident | Fearless",
        Better="Happier | Calmer | Braver | Stronger | Wiser | Kinder",
        Number="Thirty | Twenty-One | Ninety | Forty",
        Gerund="Letting Go | Saying No | Overthinking | Worrying | People-Pleasing"
               " | Slowing Down | Starting Over | Living",
        Verb="Rest | Begin Again | Thrive | Let Go | Say No | Dream Bigger | Be Happy | Heal",
        Thing="Mindset | Confidence | Burnout | Dopamine | Morning | Gratitude | Energy"
              " | Focus",
        goal="build better habits | stop procrastinating | overcome anxiety"
             " | find your purpose | set healthy boundaries | boost your confidence"
             " | beat burnout | become more productive | practise gratitude"
             " | heal after a breakup | manage stress | unlock your potential",
        tool="daily journaling prompts | simple breathing exercises | a thirty-day challenge"
             " | mindfulness practices | morning routines | proven goal-setting techniques"
             " | positive affirmations | reflective exercises",
    ),
    "Cooking": _genre(
        3, (22, 45), "Travel | Health & Fitness", "cooking",
        "Rosa Albertini-Hughes | Kenji Morimoto-Blake | Fatou Diallo-Price | Henri Desrosiers"
        " | Meera Kapoor-Lowe | Sam Okafor-Wilde | Greta Lindström | Tomás Echeverría",
        titles=(
            "{Ingredient}, {Ingredient2} and {Ingredient3}: Recipes from {Region}",
            "The {Adj} Kitchen", "{Region}: A Cookbook", "Cooking with {Ingredient}",
            "The Joy of {Dish}", "Simply {Dish}", "{Number} Ways with {Ingredient}",
            "The {Adj} Baker", "One Pot {Meal}", "Sunday {Dish}",
        ),
        sentences=(
            "Over one hundred recipes celebrate {cuisine} home cooking, from {dish} to {dish2}.",
            "Step-by-step instructions teach you how to {skill} and {skill2}.",
            "The chef shares favourite family recipes built around {ingredient} and simple"
            " techniques.",
            "Beautiful food photography accompanies every dish, with tips on prep time,"
            " servings and substitutions.",
            "Learn how to bake sourdough bread at home, with guidance on flour, starter,"
            " proofing and oven temperature.",
            "Whether you are cooking a quick weeknight dinner or a festive feast, these recipes"
            " make the most of {ingredient}.",
            "Inspired by markets and kitchens across {Region}, it brings bold flavours to your"
            " table.",
            "It is a practical cookbook for vegetarian, vegan and meat-loving cooks alike, with"
            " menus for every season.",
            "Chapters cover breakfast, soups, mains, sides, baking and desserts, all tested in a"
            " home kitchen.",
            "You will learn to season, roast, simmer and bake with confidence, using"
            " {ingredient} from the pantry.",
        ),
        Ingredient="Salt | Smoke | Citrus | Saffron | Honey | Garlic | Chilli | Butter"
                   " | Fennel | Miso | Lemon | Thyme | Sourdough | Olive Oil | Cardamom"
                   " | Tomatoes",
        Region="the Coast | Sicily | Oaxaca | the Levant | Kerala | Provence | Tokyo"
               " | the Basque Country | West Africa | the Mountains | a Greek Island | Seoul",
        Adj="Everyday | Vegetarian | Weeknight | Slow | Green | Coastal | Nordic | Modern"
            " | Rustic | Plant-Based",
        Meal="Wonders | Dinners | Suppers | Comforts | Feasts",
        Dish="Bread | Pasta | Soups | Noodles | Curries | Baking | Salads | Dumplings | Pies"
             " | Roasts | Breakfast | Desserts",
        Number="Fifty | One Hundred | Seventy | Thirty",
        dish="sourdough bread | fresh pasta | fragrant curries | weeknight stir-fries"
             " | slow-cooked stews | crisp salads | homemade dumplings | flaky pastries"
             " | roast chicken | hearty soups | layer cakes | street-food tacos",
        cuisine="Italian | Japanese | Middle Eastern | Mexican | Indian | French | Korean"
                " | Mediterranean | Thai | West African | Nordic | Lebanese",
        ingredient="seasonal vegetables | fresh herbs | warming spices | pantry staples"
                   " | olive oil and lemon | butter and flour | wild mushrooms"
                   " | grains and pulses | fresh chillies | fresh seafood | ripe tomatoes"
                   " | garlic and ginger",
        skill="knead and shape bread dough | make a sourdough starter | balance flavours"
              " | season like a professional chef | bake a perfect pie crust"
              " | roll fresh pasta | braise and roast meat | ferment vegetables"
              " | make stock from scratch | cook rice perfectly",
    ),
    "Travel": _genre(
        2, (14, 32), "Cooking | History | Biography", "travel writing",
        "Philippa Rowntree | Anders Halvorsen | Leila Benmansour | Rupert Ashworth-Lee"
        " | Chioma Eze-Harrington | Diego Valdivia | Ingrid Fjellstad | Nathaniel Porteous",
        titles=(
            "{Adj} Roads: Travels in {Region}", "The Slow Road to {Place}", "A Year in {Place}",
            "Walking the {Route}", "Lost in {Place}", "The {Adj} Traveller",
            "Notes from {Place}", "{Place} by Rail", "Islands of {Region}",
            "The Edge of {Region}",
        ),
        sentences=(
            "Travelling {transport} across {Region}, {traveller} discovers {experience} far"
            " from the tourist trail.",
            "Part travelogue, part memoir, it is a love letter to {Place} and the people who"
            " call it home.",
            "Practical tips on itineraries, budgets, visas and where to stay sit alongside vivid"
            " stories from the road.",
            "The journey takes in {experience}, {experience2} and countless cups of tea with"
            " strangers.",
            "A vivid guide for adventurous travellers, with maps, walking routes and advice on"
            " when to go.",
            "From {Place} to {Place2}, the author follows ancient trade routes and pilgrim"
            " paths.",
            "It captures the landscapes, languages and cultures of {Region} with humour and"
            " curiosity.",
            "Readers will want to pack a backpack, book a flight and see the world for"
            " themselves.",
            "An armchair traveller's delight, it is full of border crossings, missed trains and"
            " unforgettable encounters.",
            "It celebrates slow travel, sustainable tourism and the joy of getting lost in an"
            " unfamiliar city.",
        ),
        Adj="Dusty | Winding | Wandering | Long | Hidden | Unexpected | Northern | Accidental"
            " | Slow | Curious",
        Region="Patagonia | the Balkans | Central Asia | the Andes | Southeast Asia"
               " | the Sahara | Scandinavia | the Himalaya | the Caribbean | the Outback"
               " | Anatolia | the Amazon",
        Place="Lisbon | Kyoto | Marrakech | Tbilisi | Hanoi | Reykjavik | Havana | Istanbul"
              " | Zanzibar | Oaxaca | Lhasa | Bergen",
        Route="Silk Road | Camino | Danube | Trans-Siberian | Great Wall"
              " | Pacific Crest Trail | Grand Canal | Mekong",
        traveller="a solo woman traveller | a retired geography teacher"
                  " | a backpacker with no plan | a father and his teenage son"
                  " | a food writer | a long-distance cyclist | a former war correspondent"
                  " | two friends in a battered campervan",
        transport="by train | on foot | by bicycle | on a cargo ship | by motorbike"
                  " | in a rented car | on horseback | by river boat",
        experience="local markets and street food | ancient temples | mountain villages"
                   " | desert nights under the stars | crowded night trains"
                   " | hidden beaches | remote monasteries | bustling bazaars"
                   " | national parks | the hospitality of strangers",
    ),
    "Poetry": _genre(
        2, (9, 22), "Literary Fiction | Philosophy | Children's", "poetry",
        "Wren Alcott | Idris Mahmoud-Keane | Sylvie Moreau-Dunn | Akosua Mensah-Hale"
        " | Lorcan Dempsey | Hana Sato-Ellis | Esme Ravensworth | Mateo Quintana",
        titles=(
            "{Thing} and Other Poems", "The {Adj} Hours", "Songs for {Plural}",
            "Small {Plural}", "What the {Thing} Said", "Psalms of {Abstract}",
            "{Adj} Weather", "A Map of {Abstract}", "Love Poems for {Plural}",
            "Elegy for a {Thing}",
        ),
        sentences=(
            "A luminous new collection of {form} about {subject}.",
            "These poems move from {image} to {image2}, finding beauty in ordinary moments.",
            "With spare, musical language, the poet writes about {subject} and {subject2}.",
            "Lyrical and intimate, the collection explores grief, desire and the passing of time"
            " through {form} and {form2}.",
            "Its verses linger on {image}, turning memory into song.",
            "An award-winning poet returns with poems of rhythm, imagery and quiet tenderness.",
            "Each stanza rewards rereading, whether read aloud or in silence.",
            "The collection gathers poems written over a decade, tracing {subject} across"
            " landscapes and languages.",
            "Here are elegies, love poems and hymns to the natural world, written with rare"
            " precision.",
            "For lovers of poetry, it is a book to keep by the bed and return to often.",
        ),
        Thing="Salt | Orchard | Tide | Lantern | Sparrow | Harbour | Ember | Ash | Snowfall"
              " | Bread | River | Moth",
        Adj="Blue | Tender | Unfinished | Late | Quiet | Wild | Bright | Bone-White | Migrant"
            " | Green",
        Plural="the Living | Lost Daughters | Strangers | Small Birds | Absent Friends"
               " | the Drowned | the Road | Winter",
        Abstract="Longing | Home | Grief | Tenderness | Light | Exile | Desire | Water"
                 " | Breath | Distance",
        subject="love and loss | the natural world | motherhood | migration and home | grief"
                " | the body | faith and doubt | the sea | memory | war | childhood"
                " | the changing seasons",
        form="sonnets | free verse | haiku | prose poems | elegies | lyric poems | ghazals"
             " | odes | spoken-word pieces | villanelles",
        image="birdsong at dawn | a kitchen table | winter light | rain on the window"
              " | a mother's hands | the tide going out | a field of barley | an empty chair"
              " | moonlight on snow | city streets at night",
    ),
    "Graphic Novels": _genre(
        3, (14, 39), "Fantasy | Science Fiction | Young Adult | Horror", "graphic novel",
        "Jax Moreno | Kiri Watanabe-Stone | Dmitri Volkov-Reyes | Tess Adebayo-Quinn"
        " | Ray Castell | Mina Park-Holloway | Otto Brandvold | Ximena Ruiz",
        titles=(
            "{Name}: Volume {Vol}", "The {Adj} {Thing}", "{City} Nights", "Ink and {Thing}",
            "The {Thing} Chronicles", "{Adj} City", "Kid {Thing}",
            "The Last {Thing}: A Graphic Novel", "{Thing} Patrol", "Panels of {Abstract}",
        ),
        sentences=(
            "This full-colour graphic novel follows {hero} through {setting}, told in {style}.",
            "Stunning artwork and sharp dialogue make every panel of this comic a pleasure.",
            "Collecting the first six issues of the acclaimed series, it introduces {hero} and a"
            " cast of unforgettable villains.",
            "A manga-inspired adventure of superheroes, secret identities and epic battles in"
            " {setting}.",
            "Rendered in {style}, it is a visual feast for comics fans and newcomers alike.",
            "Part superhero saga, part coming-of-age story, it explores power, responsibility"
            " and friendship.",
            "The artist's {style} captures the speed of every chase and the quiet of every"
            " heartbreak.",
            "This graphic memoir uses panels, speech bubbles and striking illustrations to tell"
            " a deeply personal story.",
            "Fans of webcomics, anime and classic comic books will find a new favourite here.",
            "With {hero} at its heart, the series blends action, humour and gorgeous art across"
            " {setting}.",
        ),
        Adj="Neon | Paper | Steel | Electric | Midnight | Pixel | Iron | Crimson | Atomic"
            " | Feral",
        Thing="Samurai | Ronin | Rocket | Ghost | Witch | Mecha | Vigilante | Knight | Comet"
              " | Robot | Moth | Wolf",
        City="Neo Kyoto | Rust Harbor | Meridian | Skyline | Brackwater | Chrome Valley",
        Vol="One | Two | Three | Four",
        Abstract="Memory | Silence | Rage | Wonder",
        hero="a masked vigilante | a teenage superhero | a cyborg samurai | a ghost detective"
             " | a space pirate crew | a witch who runs a coffee shop | a giant robot pilot"
             " | an alien refugee | a cartoonist drawing her own life"
             " | a band of misfit mutants",
        setting="a neon-lit cyberpunk city | a post-apocalyptic desert | a magical high school"
                " | a war-torn kingdom | a floating island | an intergalactic circus"
                " | a haunted subway | a rain-soaked noir metropolis",
        style="bold ink | vibrant watercolour panels | manga-inspired artwork"
              " | gritty black-and-white art | full-colour spreads | retro comic-book style"
              " | dynamic action panels | minimalist line art",
    ),
    "True Crime": _genre(
        3, (12, 29), "Mystery | Thriller | History | Psychology", "true crime",
        "Colleen Brady-Hirsch | Martin Okello | Dana Westergaard | Frank Abernathy"
        " | Lucia Ferrante | Gideon Marsh | Raquel Pinheiro | Vernon Ashby-Kline",
        titles=(
            "The {Place} Murders", "Killer in {Place}", "The Case Against {Name} {Surname}",
            "Cold Case: {Place}", "The {Adj} Confession", "Blood on {Place}",
            "Anatomy of a {Crime}", "The {Role} Next Door",
            "Unsolved: The {Place} Disappearances", "Inside the {Adj} Heist",
        ),
        sentences=(
            "This true story reconstructs {case} through {evidence}, interviews and the"
            " author's own investigation.",
            "For decades nobody was charged, until {investigator} reopened the files.",
            "A chilling account of {case} and the police investigation that followed.",
            "Drawing on {evidence} and {evidence2}, the book uncovers mistakes made by"
            " detectives, lawyers and the media.",
            "It is a gripping real-life story of murder, justice and the families left behind.",
            "The author, {investigator}, spent ten years examining the crime scene, the"
            " suspects and the trial.",
            "Readers meet the victims, the killer and the community whose trust was shattered.",
            "Meticulously researched, it asks how the justice system failed and whether an"
            " innocent person went to prison.",
            "From the first missing-person report to the jury's verdict, it follows {case} step"
            " by step.",
            "A landmark work of true crime and forensic journalism, it reads like a thriller.",
        ),
        Place="Bellmont | Cedar Ridge | Harlan County | Ashford | Glenwood Falls"
              " | Marlow Street | Redwater | Lake Tamsin | Bridgeport | Kelso Bay",
        Adj="Silent | Last | False | Perfect | Midnight | Million-Dollar | Deadly | Secret",
        Crime="Murder | Heist | Cover-Up | Kidnapping | Con | Poisoning | Fraud"
              " | Disappearance",
        Role="Killer | Con Man | Poisoner | Stranger | Husband | Babysitter",
        case="a notorious serial killer | an unsolved double murder | a missing schoolgirl"
             " | a brazen diamond heist | a decades-old cold case | a wrongful conviction"
             " | a cult leader accused of murder | a small-town poisoning"
             " | a billion-dollar fraud | a kidnapping that gripped the nation",
        investigator="an investigative journalist | a retired homicide detective"
                     " | a forensic scientist | a defence attorney | a true-crime podcaster"
                     " | the victim's sister | a cold-case detective | a former FBI agent",
        evidence="DNA evidence | police interrogation tapes | court transcripts"
                 " | forensic reports | witness statements | wiretaps"
                 " | crime-scene photographs | letters from death row",
    ),
    "Health & Fitness": _genre(
        3, (12, 29), "Self-Help | Cooking | Science | Psychology", "health and fitness",
        "Jasmine Okoro-Fields | Lars Kvistad | Bianca Moretti-Hale | Andre Fontaine"
        " | Kavya Iyer-Walsh | Tom Brennan-Sato | Elena Marchenko | Ruby Castlemain",
        titles=(
            "The {Adj} Body", "Strong at {Age}", "The {Number}-Minute Workout",
            "Eat, Move, {Verb}", "The {Thing} Plan", "Run {Pace}", "Fit for {Abstract}",
            "The {Adj} Gut", "{Number} Weeks to {Goal}", "Stronger Every Day",
        ),
        sentences=(
            "Backed by the latest research, this guide shows how {topic} can help you live"
            " longer and feel better.",
            "It includes {plan} for every fitness level, from complete beginners to seasoned"
            " athletes.",
            "A personal trainer and a doctor explain how exercise, diet and rest work together"
            " to build a healthy body.",
            "Readers learn how to lose weight, build muscle, protect their joints and boost"
            " energy without fad diets.",
            "With {plan} and {plan2}, it makes {topic} practical for busy lives.",
            "The book explains the science of metabolism, calories, protein and recovery in"
            " plain language.",
            "Whether you want to run your first marathon or simply touch your toes, this is a"
            " friendly, motivating coach on the page.",
            "It covers {topic}, {topic2} and the small daily habits that add up to lasting"
            " health.",
            "Chapters on posture, breathing and injury prevention make it ideal for desk workers"
            " and older adults.",
            "It is an encouraging, evidence-based approach to wellness, fitness and mental"
            " health.",
        ),
        Adj="Resilient | Strong | Healthy | Balanced | Ageless | Active | Happy | Flexible",
        Age="Forty | Fifty | Sixty | Any Age | Seventy",
        Number="Ten | Seven | Twenty | Twelve | Thirty",
        Verb="Sleep | Breathe | Rest | Thrive | Recover",
        Thing="Longevity | Metabolism | Mobility | Hormone | Sleep | Strength | Recovery",
        Pace="Further | Faster | Free | Happy | Longer",
        Abstract="Life | Purpose | Joy | Everything",
        Goal="a Marathon | Better Sleep | Core Strength | a Healthier Heart | Your First 5K",
        topic="strength training | running | yoga | nutrition | sleep | gut health"
              " | weight loss | mobility and flexibility | heart health | healthy ageing"
              " | hormone balance | stress reduction",
        plan="a twelve-week training plan | simple home workouts"
             " | meal plans and shopping lists | stretching routines"
             " | a beginner's running schedule | evidence-based nutrition advice"
             " | daily exercise programmes | habit trackers",
    ),
    "Technology": _genre(
        3, (21, 49), "Science | Business | Science Fiction", "technology",
        "Aditya Raghunathan | Hannah Kessler-Ito | Bjorn Ekdahl | Olamide Fashola"
        " | Sebastian Lorentz | Mei Okabe-Grant | Victor Quayle | Clara Dunmore",
        titles=(
            "The {Adj} Machine", "Designing {Thing}", "{Thing} in Practice",
            "The Age of {Thing}", "Programming {Lang}", "Building {Quality} Systems",
            "The {Thing} Revolution", "Code and {Abstract}", "Understanding {Thing}",
            "The {Adj} Network",
        ),
        sentences=(
            "A hands-on guide to {topic}, with code examples, diagrams and exercises in every"
            " chapter.",
            "It explains {concept} and {concept2} clearly for {reader}.",
            "Readers will learn how to design, build and debug software that scales to millions"
            " of users.",
            "The author traces how {topic} grew from research labs into the computers, phones"
            " and servers we rely on.",
            "Covering {concept}, performance and security, it bridges theory and real-world"
            " engineering practice.",
            "It is a clear-eyed look at how algorithms, data and artificial intelligence are"
            " reshaping work, privacy and society.",
            "Essential reading for {reader} who want to understand {topic} from first"
            " principles.",
            "Each chapter builds a working project, from a simple program to a production-ready"
            " system.",
            "It demystifies {concept} with plain-language explanations and practical"
            " programming tips.",
            "Updated for the latest tools and frameworks, it is a trusted reference for"
            " developers.",
        ),
        Adj="Thinking | Learning | Invisible | Decentralised | Quantum | Intelligent"
            " | Connected | Open",
        Thing="Machine Learning | Data Pipelines | Distributed Systems | Artificial Intelligence"
              " | Cloud Infrastructure | Cybersecurity | Algorithms | Robotics | Blockchain"
              " | Software Architecture | Large Language Models | Quantum Computing",
        Lang="Python | Rust | Go | TypeScript | Kotlin | Haskell | C++",
        Quality="Reliable | Scalable | Secure | Resilient | Observable | Fault-Tolerant",
        Abstract="Power | Privacy | Conscience | Control | Culture",
        topic="machine learning | software engineering | cybersecurity | cloud computing"
              " | data science | distributed systems | artificial intelligence | robotics"
              " | web development | programming languages | computer networks"
              " | quantum computing",
        concept="neural networks | APIs and microservices | encryption | databases and SQL"
                " | algorithms and data structures | containers and Kubernetes"
                " | version control | large language models | testing and continuous delivery"
                " | GPUs and parallel computing | open-source software | network protocols",
        reader="software developers | engineering managers | data scientists | students"
               " | curious non-programmers | system administrators | startup CTOs"
               " | product designers",
    ),
}
# fmt: on

GENRES: tuple[str, ...] = tuple(_GENRE_DATA)

# Bridges used only in two-genre descriptions, so a blend reads as a blend to a search engine.
_BLENDS = (
    "It is a genre-bending blend of {a} and {b}.",
    "Part {a}, part {b}, it will delight fans of both.",
    "Readers who enjoy {b} as much as {a} will find plenty to love here.",
    "It brings the pleasures of {b} to a story rooted in {a}.",
)


# "A {Adj} Affair" must read "An Accidental Affair" when the slot starts with a vowel.
_ARTICLE_BEFORE_VOWEL = re.compile(r"\b([Aa]) (?=[AEIOUaeiou])")


class _Template:
    """A template whose slots are resolved once; {slot2} draws a second, distinct word."""

    __slots__ = ("groups", "text")

    def __init__(self, text: str, words: dict[str, tuple[str, ...]]) -> None:
        fields = dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(text) if f)
        groups: dict[str, list[str]] = {}
        for field in fields:
            groups.setdefault(field.rstrip("0123456789"), []).append(field)
        missing = sorted(base for base in groups if base not in words)
        if missing:
            raise KeyError(f"template {text!r} uses unknown slots {missing}")
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
class _Compiled:
    titles: tuple[_Template, ...]
    sentences: tuple[_Template, ...]


def _compile(genre: _Genre) -> _Compiled:
    words = _SHARED_WORDS | genre.words
    return _Compiled(
        tuple(_Template(t, words) for t in genre.titles),
        tuple(_Template(s, words) for s in genre.sentences),
    )


# Compiled at import so a typo in a slot name fails loudly, not in the middle of a seed run.
_COMPILED = {name: _compile(genre) for name, genre in _GENRE_DATA.items()}
_GENRE_CUM = list(accumulate(genre.weight for genre in _GENRE_DATA.values()))

# Price endings: most books end in .99, some in .95/.50/.00, a few in odd cents.
_CENTS = tuple(Decimal(c) for c in ("0.99", "0.95", "0.50", "0.00", "0.49", "0.25"))
_CENTS_CUM = list(accumulate((62, 14, 10, 8, 3, 3)))
_BOOKS_PER_AUTHOR = 25  # big catalogs get extra generated authors beyond this density
_MAX_AUTHORS_PER_GENRE = 300  # keeps generated names well inside FIRST x LAST combinations


def _rng(seed: int, purpose: str) -> random.Random:
    """An independent stream per purpose: string seeds are hashed stably (not PYTHONHASHSEED)."""
    return random.Random(f"bookgraph-demo:{purpose}:{seed}")


def _weighted(rng: random.Random, items: Sequence[T], cum: Sequence[float]) -> T:
    """A weighted pick by bisecting precomputed cumulative weights (cheaper than choices())."""
    return items[bisect(cum, rng.random() * cum[-1], 0, len(cum) - 1)]


def _check_count(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


# --- catalog -----------------------------------------------------------------------------------


def _isbn13(body: int) -> str:
    """978 + a 9-digit body + check digit; bodies below 2*10**8 read as English-language groups."""
    digits = f"978{body:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def _author_pools(
    rng: random.Random, books_per_genre: Counter[str]
) -> dict[str, tuple[tuple[str, ...], list[float]]]:
    """Per genre: its author names and cumulative weights (a few authors write most books)."""
    taken = {name for genre in _GENRE_DATA.values() for name in genre.authors}
    pools: dict[str, tuple[tuple[str, ...], list[float]]] = {}
    for name, genre in _GENRE_DATA.items():
        authors = list(genre.authors)
        wanted = min(_MAX_AUTHORS_PER_GENRE, math.ceil(books_per_genre[name] / _BOOKS_PER_AUTHOR))
        while len(authors) < wanted:
            candidate = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            if candidate not in taken:
                taken.add(candidate)
                authors.append(candidate)
        weights = accumulate((rank + 2) ** -0.7 for rank in range(len(authors)))
        pools[name] = (tuple(authors), list(weights))
    return pools


def _pick_authors(rng: random.Random, pool: tuple[tuple[str, ...], list[float]]) -> tuple[str, ...]:
    names, cum = pool
    first = _weighted(rng, names, cum)
    if rng.random() < 0.85:
        return (first,)
    second = first
    while second == first:
        second = _weighted(rng, names, cum)
    return (first, second)


def _description(rng: random.Random, genres: tuple[str, ...], chosen: dict[str, str]) -> str:
    main = _COMPILED[genres[0]].sentences
    count = rng.choice((3, 4, 4, 5))
    sentences = [template.fill(rng, chosen) for template in rng.sample(main, count)]
    if len(genres) > 1:
        # The second genre fills its own slots (its words show up) but keeps the same people.
        people = {slot: chosen[slot] for slot in _SHARED_WORDS if slot in chosen}
        guest = rng.choice(_COMPILED[genres[1]].sentences).fill(rng, people)
        sentences[rng.randrange(1, count)] = guest
        if rng.random() < 0.5:
            labels = {"a": _GENRE_DATA[genres[0]].label, "b": _GENRE_DATA[genres[1]].label}
            sentences.insert(1, rng.choice(_BLENDS).format_map(labels))
            del sentences[5:]
    return " ".join(sentences)


def _price(rng: random.Random, genre: _Genre) -> Decimal:
    low, high = genre.price
    whole = low + int((high - low + 1) * rng.random() ** 1.3)  # skewed towards cheaper books
    return Decimal(whole) + _weighted(rng, _CENTS, _CENTS_CUM)


def _stock(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.08:
        return 0  # out of stock
    if roll < 0.18:
        return rng.randint(1, 5)  # running low
    return 6 + int(115 * rng.random() ** 1.6)


def generate_catalog(books: int, *, seed: int = 42) -> list[BookRecord]:
    """`books` books with unique ISBN-13s; the same arguments always give the same catalog."""
    _check_count("books", books)
    rng = _rng(seed, "catalog")
    primaries = rng.choices(GENRES, cum_weights=_GENRE_CUM, k=books)
    pools = _author_pools(_rng(seed, "authors"), Counter(primaries))
    bodies = rng.sample(range(2 * 10**8), books)
    catalog: list[BookRecord] = []
    for primary, body in zip(primaries, bodies, strict=True):
        genre = _GENRE_DATA[primary]
        genres = (primary, rng.choice(genre.related)) if rng.random() < 0.3 else (primary,)
        chosen: dict[str, str] = {}  # shared by title and description: one book, one story
        catalog.append(
            BookRecord(
                isbn=_isbn13(body),
                title=rng.choice(_COMPILED[primary].titles).fill(rng, chosen),
                authors=_pick_authors(rng, pools[primary]),
                description=_description(rng, genres, chosen),
                genres=genres,
                # Mostly recent books: mean age 12 years, so only ~5% predate 1990.
                published_year=2026 - min(76, int(rng.expovariate(1 / 12))),
                price=_price(rng, genre),
                stock=_stock(rng),
            )
        )
    return catalog


# --- customers ---------------------------------------------------------------------------------


def _email_part(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_name.lower() if c.isalnum())


def _favourites(rng: random.Random) -> tuple[str, ...]:
    """1-3 genres; later picks lean to genres related to the first, as real tastes cluster."""
    count = rng.choices((1, 2, 3), weights=(35, 45, 20))[0]
    first = _weighted(rng, GENRES, _GENRE_CUM)
    picks = [first]
    while len(picks) < count:
        if rng.random() < 0.5:
            candidate = rng.choice(_GENRE_DATA[first].related)
        else:
            candidate = _weighted(rng, GENRES, _GENRE_CUM)
        if candidate not in picks:
            picks.append(candidate)
    return tuple(picks)


def generate_customers(customers: int, *, seed: int = 42) -> list[CustomerRecord]:
    """Customers demo-customer-1..n with invented names and unique example.com emails."""
    _check_count("customers", customers)
    rng = _rng(seed, "customers")
    people: list[CustomerRecord] = []
    for i in range(1, customers + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        people.append(
            CustomerRecord(
                subject=f"demo-customer-{i}",
                name=f"{first} {last}",
                email=f"{_email_part(first)}.{_email_part(last)}{i}@example.com",
                favourite_genres=_favourites(rng),
            )
        )
    return people


# --- orders ------------------------------------------------------------------------------------

_HISTORY = timedelta(days=730)
_LINE_COUNTS = (1, 2, 3, 4)
_LINE_COUNTS_CUM = list(accumulate((30, 33, 22, 15)))  # mean ~2.2 lines per order
_QUANTITIES = (1, 2, 3)
_QUANTITIES_CUM = list(accumulate((85, 11, 4)))
_FAVOURITE_SHARE = 0.8  # of base picks; the rest come from the whole catalog
_CO_PURCHASE = 0.35  # chance a further line follows an earlier line's author or companions
_COMPANIONS = 3
# (orders younger than this many days, statuses, cumulative weights): fresh orders are still
# moving through the pipeline; anything older than 30 days has settled. None is PENDING: that
# status lasts only while a checkout runs.
_STATUS_BY_AGE: tuple[tuple[float, tuple[str, ...], list[int]], ...] = tuple(
    (age, _words(statuses), list(accumulate(weights)))
    for age, statuses, weights in (
        (1, "CONFIRMED | CANCELLED", (95, 5)),
        (3, "CONFIRMED | SHIPPED | CANCELLED", (60, 38, 2)),
        (10, "CONFIRMED | SHIPPED | DELIVERED | CANCELLED", (5, 55, 38, 2)),
        (30, "SHIPPED | DELIVERED | CANCELLED | REJECTED", (8, 88, 3, 1)),
        (math.inf, "DELIVERED | CANCELLED | REJECTED", (95, 4, 1)),
    )
)


class _Shop:
    """What customers buy from: popularity, genre shelves, author shelves and companions."""

    def __init__(self, catalog: Sequence[BookRecord], rng: random.Random) -> None:
        self.books = list({book.isbn: book for book in catalog}.values())
        count = len(self.books)
        # Zipf-like popularity: a random rank per book, weight 1 / rank^0.9.
        ranks = list(range(1, count + 1))
        rng.shuffle(ranks)
        self.popularity = [rank**-0.9 for rank in ranks]
        self.all_books = list(range(count))
        self.all_cum = list(accumulate(self.popularity))
        shelves: dict[str, list[int]] = {}
        by_author: dict[str, list[int]] = {}
        for index, book in enumerate(self.books):
            for genre in book.genres:
                shelves.setdefault(genre, []).append(index)
            for author in book.authors:
                by_author.setdefault(author, []).append(index)
        self.shelves = {
            genre: (members, list(accumulate(self.popularity[i] for i in members)))
            for genre, members in shelves.items()
        }
        self.by_author = by_author
        # Companions: each book's next few neighbours in a seeded shuffle of its main genre,
        # a fixed "also bought" set that popularity alone does not explain.
        self.companions: list[tuple[int, ...]] = [()] * count
        for genre, members in shelves.items():
            ring = [i for i in members if self.books[i].genres[0] == genre]
            rng.shuffle(ring)
            for position, index in enumerate(ring):
                after = (ring[(position + k) % len(ring)] for k in range(1, _COMPANIONS + 1))
                self.companions[index] = tuple(i for i in after if i != index)

    def base_pick(self, rng: random.Random, favourites: tuple[str, ...]) -> int:
        if favourites and rng.random() < _FAVOURITE_SHARE:
            members, cum = self.shelves[rng.choice(favourites)]
            return _weighted(rng, members, cum)
        return _weighted(rng, self.all_books, self.all_cum)

    def co_pick(self, rng: random.Random, anchor: int) -> int:
        same_author = self.by_author[rng.choice(self.books[anchor].authors)]
        companions = self.companions[anchor]
        if len(same_author) > 1 and (rng.random() < 0.5 or not companions):
            return rng.choice(same_author)
        return rng.choice(companions) if companions else anchor

    def basket(self, rng: random.Random, favourites: tuple[str, ...]) -> list[int]:
        picked: list[int] = []
        for _ in range(_weighted(rng, _LINE_COUNTS, _LINE_COUNTS_CUM)):
            for _attempt in range(4):  # retry a duplicate a few times, then drop the line
                if picked and rng.random() < _CO_PURCHASE:
                    book = self.co_pick(rng, rng.choice(picked))
                else:
                    book = self.base_pick(rng, favourites)
                if book not in picked:
                    picked.append(book)
                    break
        return picked


def _status(rng: random.Random, age_days: float) -> str:
    for limit, statuses, cum in _STATUS_BY_AGE:
        if age_days < limit:
            return _weighted(rng, statuses, cum)
    raise AssertionError("unreachable: the last age limit is infinite")


def _order_times(rng: random.Random, orders: int, now: datetime) -> Iterator[datetime]:
    """Sorted times in the 2 years before `now`, streamed without holding them all in memory.

    The next order statistic of k uniforms above `current` is current + (1 - current) *
    (1 - U ** (1 / k)); a final power < 1 puts more orders in recent months (a growing shop).
    """
    span = int(_HISTORY.total_seconds())
    start = now - _HISTORY
    current, last = 0.0, 0
    for remaining in range(orders, 0, -1):
        current += (1.0 - current) * (1.0 - rng.random() ** (1.0 / remaining))
        offset = min(span, max(last + 1, round(current**0.8 * span)))  # strictly increasing
        last = offset
        yield start + timedelta(seconds=offset)


def generate_orders(
    catalog: Sequence[BookRecord],
    customers: Sequence[CustomerRecord],
    orders: int,
    *,
    seed: int = 42,
    now: datetime,
) -> Iterator[OrderRecord]:
    """`orders` orders BG-0000001.. in time order over the 2 years before `now`, lazily.

    `now` is the one input that is not fixed by the seed: a history generated today must end today,
    or everything that looks at recent sales (TRENDING) finds none. The same seed and `now` give the
    same orders; another `now` gives the same orders shifted in time."""
    _check_count("orders", orders)
    if orders and (not catalog or not customers):
        raise ValueError("orders need a non-empty catalog and at least one customer")
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    if not orders:
        return iter(())
    rng = _rng(seed, "orders")
    shop = _Shop(catalog, rng)
    # Lognormal activity: most customers order now and then, a few order a lot.
    activity = list(accumulate(rng.lognormvariate(0.0, 1.0) for _ in customers))
    tastes = [
        tuple(genre for genre in person.favourite_genres if genre in shop.shelves) for person in customers
    ]
    return _orders(rng, shop, customers, tastes, activity, orders, now)


def _orders(
    rng: random.Random,
    shop: _Shop,
    customers: Sequence[CustomerRecord],
    tastes: list[tuple[str, ...]],
    activity: list[float],
    orders: int,
    now: datetime,
) -> Iterator[OrderRecord]:
    people = list(range(len(customers)))
    for number, placed_at in enumerate(_order_times(rng, orders, now), start=1):
        who = _weighted(rng, people, activity)
        books = shop.basket(rng, tastes[who])
        lines = tuple(
            OrderLineRecord(
                isbn=shop.books[book].isbn,
                quantity=_weighted(rng, _QUANTITIES, _QUANTITIES_CUM),
            )
            for book in books
        )
        age_days = (now - placed_at).total_seconds() / 86400
        yield OrderRecord(
            number=f"BG-{number:07d}",
            customer_subject=customers[who].subject,
            placed_at=placed_at,
            status=_status(rng, age_days),
            lines=lines,
        )
