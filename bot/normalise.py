"""Text -> tokens: the first step of the flow.

Chat platforms wrap plain words in markup (`<@U123>`, `<http://x|label>`, `:emoji:`), users
paste code and invisible characters, and people type "hallucinated" where a rule says
"hallucinate". Everything here exists so that rule phrases and messages meet in one form:
case-folded, NFKC-normalised, stemmed word tokens.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import Stemmer  # PyStemmer: the Snowball project's own C implementation

MAX_CHARS = 8000  # longer messages are cut here, and the reply says so
GAP = "\x00gap"  # stands for "..." inside a rule phrase: up to MAX_GAP other words
EXACT = "="  # "=emailed" in a rule phrase matches that word form only, not its stem

MAX_GAP = 3

_ZERO_WIDTH = dict.fromkeys(
    map(ord, "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"), None
)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\uff07": "'", "`": " "})

_CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.S)
_SLACK_LINK_LABEL = re.compile(r"<(?:https?|mailto):[^|>\s]*\|([^>]*)>")
_SLACK_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")
_ANGLE_MARKUP = re.compile(r"<[@#!:a][^<>\s]{0,120}>|<https?://[^>\s]*>|<t:\d+(?::[a-zA-Z])?>")
_MASS_MENTION = re.compile(r"@(?:everyone|here|channel)\b", re.I)
_URL = re.compile(r"https?://\S+")
_EMOJI = re.compile(r":[a-z0-9_+\-]*[a-z][a-z0-9_+\-]*:", re.I)
_HTML_ESCAPES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
_CLAUSE_BREAK = re.compile(r"[.;:!?\n]+|,\s*(?:but|however|although|though|yet)\b|\s+but\s+")
_WORD = r"[^\W_]+(?:'[^\W_]+)*"
_WORD_OR_BREAK = re.compile(f"(?P<brk>{_CLAUSE_BREAK.pattern})|{_WORD}")
_PHRASE_WORD = re.compile(f"=?({_WORD})")  # a rule phrase's words, each maybe marked exact
_JUNK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")  # control chars (Cc) but tab/newlines, and U+FFFD


@dataclass(frozen=True)
class Tokens:
    """A message as the matcher sees it.

    `words` are the case-folded surface words (for showing spans), `stems` the matching keys,
    `clauses` a clause number per word so that "not" in one clause never negates the next.
    """

    text: str  # the cleaned, case-folded text the offsets refer to
    words: tuple[str, ...]
    stems: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    clauses: tuple[int, ...]

    def span(self, i: int, j: int) -> str:
        """The message text covering words i..j-1, as written (after cleaning)."""
        return self.text[self.starts[i] : self.ends[j - 1]]


class MemoStemmer:
    """Snowball English with a memo: the same few thousand words recur in every message."""

    def __init__(self, cap: int = 200_000) -> None:
        self._stem = Stemmer.Stemmer("english").stemWord
        self._memo: dict[str, str] = {}
        self._cap = cap

    def __call__(self, word: str) -> str:
        stem = self._memo.get(word)
        if stem is None:
            # Snowball drops a possessive "'s"; other apostrophes (can't, don't) stay whole.
            stem = self._stem(word) if word.isascii() else word
            if len(self._memo) >= self._cap:
                self._memo.clear()
            self._memo[word] = stem
        return stem

    def stems(self, words: list[str]) -> tuple[str, ...]:
        """Stems of a message's words: one C-level pass over the memo, Snowball only for new words."""
        out = list(map(self._memo.get, words))
        if None in out:
            out = [s if s is not None else self(w) for s, w in zip(out, words)]
        return tuple(out)


_stemmer = MemoStemmer()


def strip_markup(text: str) -> str:
    """Reduce Slack/Discord markup to the words a person would read aloud.

    Mentions, channel ids, mass mentions, URLs, emoji codes and fenced code are dropped;
    link and channel labels are kept because they are the user's words.
    """
    # Each pattern needs a character most posts lack; testing for it first is ~10x cheaper
    # than running a regex that will not match.
    if "```" in text:
        text = _CODE_BLOCK.sub(" ", text)
    if "<" in text:
        text = _SLACK_LINK_LABEL.sub(r" \1 ", text)
        text = _SLACK_CHANNEL.sub(r" \1 ", text)
        text = _ANGLE_MARKUP.sub(" ", text)
    if "://" in text:
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _MASS_MENTION.sub(" ", text)
    if ":" in text:
        text = _EMOJI.sub(" ", text)
    if "&" in text:
        for escaped, plain in _HTML_ESCAPES:
            text = text.replace(escaped, plain)
        text = text.replace("&", " and ")  # "trust&safety", "R&D": the word people mean
    return text


def fold(text: str) -> str:
    """Unicode normalisation: zero-width removal, NFKC, case folding, one apostrophe."""
    if text.isascii():  # NFKC and the zero-width table change nothing in ASCII
        return text.lower().translate(_QUOTES)
    text = text.translate(_ZERO_WIDTH)
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.translate(_QUOTES)


def clean(text: str) -> str:
    return fold(strip_markup(text))


def tokenize(text: str, *, markup: bool = True) -> Tokens:
    """Clean and split a message. `markup=False` is for rule phrases, which hold no chat markup."""
    cleaned = clean(text) if markup else fold(text)
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    clauses: list[int] = []
    clause = 0
    # One scan finds words and clause breaks alike; a break never starts inside a word (it
    # starts with punctuation or a space), so this splits as two passes would, in one.
    for m in _WORD_OR_BREAK.finditer(cleaned):
        if m.lastgroup == "brk":
            clause += 1
        else:
            words.append(m.group())
            starts.append(m.start())
            ends.append(m.end())
            clauses.append(clause)
    return Tokens(cleaned, tuple(words), _stemmer.stems(words), tuple(starts), tuple(ends), tuple(clauses))


def same_text(text: str) -> str:
    """What makes two examples the same text: whitespace and case ignored. Cross-validation folds
    and the transformer's stored out-of-fold calls both key examples by it."""
    return " ".join(text.split()).casefold()


_phrase_keys: dict[str, tuple[str, ...]] = {}


def phrase_key(phrase: str) -> tuple[str, ...]:
    """A rule phrase as a tuple of stems; "..." becomes a GAP marker.

    Returns an empty tuple for a phrase that normalises to nothing (the checker reports it).
    Memoised: a reload re-reads thousands of unchanged phrases.
    """
    key = _phrase_keys.get(phrase)
    if key is None:
        key = _phrase_key(phrase)
        if len(_phrase_keys) >= 500_000:
            _phrase_keys.clear()
        _phrase_keys[phrase] = key
    return key


def _phrase_key(phrase: str) -> tuple[str, ...]:
    parts = re.split(r"\s*(?:\.\.\.|\u2026)\s*", phrase.strip())
    key: list[str] = []
    for n, part in enumerate(parts):
        if n and key and key[-1] != GAP:
            key.append(GAP)
        for m in _PHRASE_WORD.finditer(fold(part)):
            word = m.group(1)
            key.append(EXACT + word if m.group(0).startswith(EXACT) else _stemmer(word))
    while key and key[-1] == GAP:
        key.pop()
    while key and key[0] == GAP:
        key.pop(0)
    return tuple(key)


@dataclass(frozen=True)
class Prepared:
    """A message after the input guards: the text to classify and what the user must be told."""

    text: str
    notices: tuple[str, ...] = ()
    rejected: str = ""  # "empty" | "binary" when there is nothing to classify


def prepare(raw: str | bytes) -> Prepared:
    """Guard the engine against what chat users really send: nothing, junk, or a novel.

    Invalid UTF-8 is decoded with replacement characters; text that is mostly control or
    replacement characters is refused as binary; long text is cut at MAX_CHARS with a notice.
    """
    notices: list[str] = []
    if isinstance(raw, bytes):
        text = raw.decode("utf-8", errors="replace")
    else:
        text = raw
    if not text or not text.strip():
        return Prepared("", (), "empty")
    if len(text) > MAX_CHARS:
        notices.append(
            f"Your message is {len(text):,} characters long; I read only the first {MAX_CHARS:,}."
        )
        text = text[:MAX_CHARS]
    sample = text[:4096]
    junk = len(_JUNK.findall(sample))
    if junk > max(3, len(sample) // 10):
        return Prepared("", tuple(notices), "binary")
    return Prepared(text, tuple(notices))
