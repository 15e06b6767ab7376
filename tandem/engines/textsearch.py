"""What a search box's text means, and how a found text is shown: pure Python, no database.

A query is read into plain words and "quoted phrases"; everything else (operators of either
full-text engine, ``*``, ``NEAR``, parentheses, ``:``, ``^``, ``-``) is punctuation and dropped,
so that the text a person types can never be read as a query language by SQLite's FTS5 or
PostgreSQL's tsquery. The backends build their own query from the terms (``fts5_match``,
``tsquery_text``), and every term is letters and digits only, so it needs no escaping.

    >>> parse_query('invoice "pay rate" NEAR(* ))').terms
    (('invoice',), ('pay', 'rate'), ('near',))
    >>> parse_reference("sr-12")
    12
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

#: The longest query read: a sentence, not a document.
MAX_QUERY_LENGTH = 200
#: At most this many words or phrases count; more narrow nothing useful and cost time.
MAX_TERMS = 8

_WORD = re.compile(r"\w+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]*)"')
_REFERENCE = re.compile(r"^\s*SR-?\s*0*(\d{1,12})\s*$", re.IGNORECASE)


class QueryError(ValueError):
    """The text cannot be searched for; the message says what to type instead."""


@dataclass(frozen=True)
class Query:
    text: str
    #: Each term is one word, or the words of a phrase in order (all lower case).
    terms: tuple[tuple[str, ...], ...]

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(word for term in self.terms for word in term)


def parse_reference(text: str) -> int | None:
    """The request number of a reference such as ``SR-000123``, ``sr-123`` or ``SR123``."""
    match = _REFERENCE.match(text or "")
    return int(match.group(1)) if match else None


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text.replace("_", " "))]


def parse_query(text: str) -> Query:
    """The words and phrases of a search box's text; QueryError when there is nothing to search
    for or the text is too long."""
    text = (text or "").replace("\x00", "").strip()
    if not text:
        raise QueryError("Type a word, a name or a reference (such as SR-000123) to search for.")
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"The search is {len(text):,} characters long; the limit is {MAX_QUERY_LENGTH}. "
            "Use a few distinctive words."
        )
    terms: list[tuple[str, ...]] = []
    # An unbalanced quote is read as a plain character: the words around it still count.
    if text.count('"') % 2:
        text = text.replace('"', " ")
    terms += [tuple(_words(phrase)) for phrase in _PHRASE.findall(text)]
    rest = _PHRASE.sub(" ", text)
    terms = [t for t in terms if t]
    terms += [(w,) for w in _words(rest)]
    unique = list(dict.fromkeys(terms))[:MAX_TERMS]
    if not unique:
        raise QueryError("There is nothing to search for in punctuation alone: type a word, a name or a reference.")
    return Query(text=text, terms=tuple(unique))


def fts5_match(query: Query, columns: tuple[str, ...]) -> str:
    """An FTS5 MATCH expression: every term, each a quoted string (a phrase for several
    words), in the given columns only."""
    body = " ".join('"' + " ".join(term) + '"' for term in query.terms)
    return "{" + " ".join(columns) + "} : (" + body + ")"


def tsquery_text(query: Query, weights: str) -> str:
    """A ``to_tsquery`` text: every term (a phrase joined by ``<->``) restricted to the lexemes of
    the given weights (``"AB"``: the heading and the requester)."""
    parts = []
    for term in query.terms:
        parts.append("(" + " <-> ".join(f"'{word}':{weights}" for word in term) + ")")
    return " & ".join(parts)


def _matches(word: str, wanted: tuple[str, ...]) -> bool:
    """Whether a word of the text is one of the query's words, allowing the endings both
    engines' stemmers take off ("timesheets" for "timesheet", "approved" for "approve")."""
    word = word.lower()
    for w in wanted:
        if word == w:
            return True
        short, long_ = sorted((word, w), key=len)
        if len(short) >= 4 and long_.startswith(short[: max(4, len(short) - 1)]) and len(long_) - len(short) <= 3:
            return True
    return False


def snippet(text: str, words: tuple[str, ...], *, width: int = 24) -> str | None:
    """A window of about ``width`` words of ``text`` around the first word of the query, as HTML:
    the text escaped, the query's words in ``<mark>``. None when no word of the query is in it."""
    tokens = re.split(r"(\w+)", text)
    hits = [i for i in range(1, len(tokens), 2) if _matches(tokens[i], words)]
    if not hits:
        return None
    word_positions = list(range(1, len(tokens), 2))
    first = word_positions.index(hits[0])
    start = max(0, first - width // 3)
    end = min(len(word_positions), start + width)
    lo = word_positions[start] if start else 0
    hi = word_positions[end - 1] + 1 if end < len(word_positions) else len(tokens)
    out = ["…" if lo else ""]
    for i in range(lo, hi):
        piece = html.escape(tokens[i])
        out.append(f"<mark>{piece}</mark>" if i % 2 and _matches(tokens[i], words) else piece)
    out.append("…" if hi < len(tokens) else "")
    return " ".join("".join(out).split())
