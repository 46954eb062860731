"""Words: how questions are normalised, and the small documented lexicon the planner relies on.

Everything domain-specific the planner knows lives here, as plain data. Column and table names
come from the database; this file only says which *kinds* of names mean money, quantities or
dates, and which everyday words mean an aggregate, a grain, a chart or nothing at all.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable

__all__ = [
    "AGG_WORDS",
    "AVG_DEFAULT_HINTS",
    "CHART_WORDS",
    "CURRENCY_WORDS",
    "DATE_PREFERENCE",
    "FILLER",
    "FUNCTION_WORDS",
    "GRAIN_WORDS",
    "LABEL_NAMES",
    "LENGTH_ADJECTIVES",
    "LENGTH_HINTS",
    "MASS_UNITS",
    "MONEY_HINTS",
    "MONEY_VERBS",
    "MONEY_WORDS",
    "PRICE_ADJECTIVES",
    "PRICE_HINTS",
    "QUANTITY_HINTS",
    "QUANTITY_WORDS",
    "SIZE_UNITS",
    "STOPWORDS",
    "TIME_UNITS",
    "WEIGHT_ADJECTIVES",
    "WEIGHT_HINTS",
    "WEIGHT_VERBS",
    "close_match",
    "plural",
    "singular",
    "tokens",
    "words_of",
]


def _words(text: str) -> frozenset[str]:
    """A word list written as one string."""
    return frozenset(text.split())


# Column-name words that mark a column as money, a unit price or a count of units.
MONEY_HINTS = _words(
    "price cost amount revenue sales total salary wage pay fee fees balance income value spend budget "
    "profit payment paid charge fine fare"
)
PRICE_HINTS = frozenset({"price", "cost", "rate"})
QUANTITY_HINTS = frozenset({"quantity", "qty", "units", "count", "copies"})
# Numeric columns that read better averaged than summed when no aggregate is named.
AVG_DEFAULT_HINTS = _words("price rate age score rating percent pct ratio year years tenure")
# Which text column names a row (for "top 5 customers"), in order of preference.
LABEL_NAMES = ("name", "title", "full_name", "label")
# Date columns more likely to be "the" date of a row, in order of preference.
DATE_PREFERENCE = ("date", "created", "placed", "ordered", "start", "started", "hired", "joined", "signup")

# Words for a derived amount (quantity * price) or, failing that, a money column.
MONEY_WORDS = _words(
    "revenue revenues sales sale turnover income money earnings earned earn earns spend spent spending "
    "amount value worth gmv billing billings"
)
# Verbs that only repeat a money measure already named ("the amount paid", "the total spent").
MONEY_VERBS = _words("paid pay pays paying spent spend spends charged billed earned")
# Words for the quantity column ("units sold", "the least sold products").
QUANTITY_WORDS = frozenset(
    {"sold", "selling", "seller", "sellers", "units", "quantity", "quantities", "qty", "volume"}
)
# Adjectives that rank rows by their price: word -> sort direction.
PRICE_ADJECTIVES = {"expensive": "desc", "pricey": "desc", "priciest": "desc", "costly": "desc",
                    "cheap": "asc", "cheapest": "asc", "inexpensive": "asc", "affordable": "asc"}  # fmt: skip
# Words that stand for a column name (lexicon synonyms): word -> column-name word.
COLUMN_SYNONYMS = {
    "pay": "salary",
    "wage": "salary",
    "wages": "salary",
    "payroll": "salary",
    "compensation": "salary",
    "salaries": "salary",
    "signed": "signup",
    "rated": "rating",
    "priced": "price",
    "pricing": "price",
    "prices": "price",
    "registered": "signup",
    "joined": "signup",
    "hired": "hire",
    "cost": "price",
    "costs": "price",
}

# Everyday words that carry no meaning for a plan: dropped only when nothing in the database matched
# them (a table called "members" still wins over the filler "member" of "staff member").
FILLER = _words(
    "database db system catalog catalogue records work works working worked here take takes took taken "
    "deliver delivers delivered delivering provide provides provided supply supplies supplied handle "
    "handles handled carry carries carried bring brings brought appear appears appeared look looks looked "
    "after got have has having altogether member members cover covers covered exist exists existing "
    "stored keep keeps kept hold holds held contain contains currently ever really actually whose "
    "named called listed available people folks quick question questions hey know wondering wonder "
    "curious kindly need want wanted like issued issue"
)
# Grammar words that are also short codes in data (the state "ON", the country code "IT", the
# airport "OR"): written in lower case they are read as grammar, never as those values.
FUNCTION_WORDS = _words(
    "a an the of in on at to for from with by and or nor is are was were be been it its me us we my our "
    "he she his her they them their this that as into onto if so do did has had hi ok"
)
# Units a number may carry, and what one of each is worth in the unit's base (seconds, bytes).
CURRENCY_WORDS = _words("dollar dollars usd euro euros eur pound pounds gbp buck bucks cent")
TIME_UNITS = {"millisecond": 0.001, "milliseconds": 0.001, "ms": 0.001, "msec": 0.001, "second": 1.0,
              "seconds": 1.0, "sec": 1.0, "secs": 1.0, "minute": 60.0, "minutes": 60.0, "min": 60.0,
              "mins": 60.0, "hour": 3600.0, "hours": 3600.0, "hr": 3600.0, "hrs": 3600.0,
              "day": 86400.0, "days": 86400.0}  # fmt: skip
SIZE_UNITS = {"byte": 1.0, "bytes": 1.0, "kb": 1024.0, "kilobyte": 1024.0, "kilobytes": 1024.0,
              "mb": 1024.0**2, "megabyte": 1024.0**2, "megabytes": 1024.0**2, "gb": 1024.0**3,
              "gigabyte": 1024.0**3, "gigabytes": 1024.0**3}  # fmt: skip
MASS_UNITS = {"g": 1.0, "gram": 1.0, "grams": 1.0, "kg": 1000.0, "kilogram": 1000.0, "kilograms": 1000.0,
              "kilo": 1000.0, "kilos": 1000.0}  # fmt: skip
# Column-name words of a weight ("weight", "body_mass_g"), the verbs that name one ("weighs over
# 5000 grams") and the adjectives that rank rows by it: word -> sort direction.
WEIGHT_HINTS = _words("weight mass")
WEIGHT_VERBS = _words("weigh weighs weighed weighing")
WEIGHT_ADJECTIVES = {"heaviest": "desc", "lightest": "asc"}
# Column-name words of a length in time ("length", "duration", "Milliseconds").
LENGTH_HINTS = _words("length duration runtime milliseconds millisecond seconds minutes hours ms")
# Adjectives that rank rows by a length in time: word -> sort direction.
LENGTH_ADJECTIVES = {"longest": "desc", "shortest": "asc"}

AGG_WORDS = {
    "total": "sum",
    "sum": "sum",
    "overall": "sum",
    "combined": "sum",
    "average": "avg",
    "avg": "avg",
    "mean": "avg",
    "typical": "avg",
    "minimum": "min",
    "min": "min",
    "smallest": "min",
    "lowest": "min",
    "maximum": "max",
    "max": "max",
    "largest": "max",
    "biggest": "max",
    "highest": "max",
    "count": "count",
}

GRAIN_WORDS = {
    "day": "day",
    "daily": "day",
    "days": "day",
    "date": "day",
    "week": "week",
    "weekly": "week",
    "weeks": "week",
    "month": "month",
    "monthly": "month",
    "months": "month",
    "quarter": "quarter",
    "quarterly": "quarter",
    "quarters": "quarter",
    "year": "year",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
    "years": "year",
}

CHART_WORDS = {
    "horizontal bar": "bar_horizontal",
    "horizontal": "bar_horizontal",
    "stacked bar": "stacked_bar",
    "stacked": "stacked_bar",
    "bar": "bar",
    "bars": "bar",
    "column": "bar",
    "histogram": "bar",
    "line": "line",
    "trend": "line",
    "area": "area",
    "pie": "pie",
    "donut": "donut",
    "doughnut": "donut",
}

# Words that carry no meaning for the planner once the meaningful ones are taken out.
STOPWORDS = _words(
    "a an the of in on at to for from with without by per each every and or vs versus is are was were be "
    "been being do does did done have has had what which who whom whose how many much show me give get "
    "list display tell find please can could would you i we our my us let lets see view all any there "
    "their its it this that these those as into about across over under within during than then also just "
    "only now please thanks thank hi hello some number numbers amount count up down make made placed "
    "place put sold bought purchased ordered order made happened happen were total value values data "
    "table tables record records row rows entries entry chart graph plot visualize visualise "
    "visualization diagram broken break split grouped group breakdown where when whats what's it's kind "
    "kinds type types overall so far recorded registered signed created got go goes went currently "
    "current most least top bottom best worst recent latest newest oldest first earliest result results "
    "report summary summarize summarise compare comparison distribution breakdown instead same again too "
    "also like use used using via times time come comes came live lives living located based belong belongs "
    "did does doing ones one select pick fetch return"
)

_WORD = re.compile(r"[a-z0-9]+(?:[.'-][a-z0-9]+)*")


# Plurals no rule makes: "children" for the value 'child', "women" for 'woman'.
_IRREGULAR = {"children": "child", "men": "man", "women": "woman", "people": "person", "species": "species",
              "series": "series"}  # fmt: skip


@functools.lru_cache(maxsize=8192)
def singular(word: str) -> str:
    """A crude singular: categories -> category, statuses -> status, orders -> order."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "uses", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def plural(word: str) -> str:
    """A crude plural for messages: category -> categories, status -> statuses, region -> regions."""
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "o", "u"):
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


_SYMBOLS = ((">=", " at least "), ("<=", " at most "), ("!=", " not "), ("<>", " not "), (">", " over "),
            ("<", " under "), ("=", " equal to "))  # fmt: skip
_DOLLARS = re.compile(r"\$\s*(\d[\d,]*(?:\.\d+)?)")


def tokens(text: str) -> list[str]:
    """Lower-cased words of a question, possessives dropped ("customer's" -> "customer").

    Comparison signs become words ("> 5" reads "over 5") and "$100" reads "100 dollars", so a
    constraint written with symbols is read, not lost.
    """
    text = _DOLLARS.sub(r" \1 dollars ", text.lower().replace("\u2019", "'"))
    for sign, words in _SYMBOLS:
        text = text.replace(sign, words)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    found = _WORD.findall(text)
    return [w[:-2] if w.endswith("'s") else w for w in found]


@functools.lru_cache(maxsize=8192)  # names are read many times per question; the cache keeps it linear
def words_of(name: str) -> tuple[str, ...]:
    """The singular words of an identifier: "order_items" -> ("order", "item"), "unitPrice" too."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return tuple(singular(w) for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w)


def close_match(word: str, candidates: Iterable[str], cutoff: float = 0.82) -> str | None:
    """The candidate closest to ``word`` (difflib), if close enough; words under 4 letters must match."""
    pool = list(candidates)
    if word in pool:
        return word
    if len(word) < 4:
        return None
    found = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
    return found[0] if found else None
