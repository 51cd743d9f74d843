"""Find rule phrases in a message: the "match" step of the flow.

All phrases (rules, pitfall groups, AI-context words, exclusions, negation and hedge cues)
go into one index keyed by their first stem (first two for longer phrases), so a message
costs two dict lookups per word plus a short walk for the few phrases that start there. Typo tolerance is per word and
only for words the rule vocabulary does not know, never a fuzzy scan of the whole message
(which would find "ai" inside "said").
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .schema import Knowledge, Phrase
from .normalise import EXACT, GAP, MAX_GAP, Tokens, _stemmer

RULE, PITFALL, CONTEXT, EXCLUSION, NEGATION, HEDGE = range(6)

# Typo tolerance applies to words of at least 5 letters that are not real English words (see
# english_words) and whose stems have at least 4 ("decdes" stems to "decd"); two edits only
# between stems of 9 letters or more.
# Without the word list, real words one edit from a rule word got "corrected" ("payroll" ~
# "parole", "context" ~ "content"); with it, the threshold can be this low.
FUZZY_MIN_LEN = 5
FUZZY_TWO_EDITS_LEN = 9
_FUZZY_CACHE_CAP = 50_000
_ENGLISH_WORDS = Path(__file__).with_name("data") / "english-words.txt.gz"
_english: frozenset[str] | None = None


def english_words() -> frozenset[str]:
    """Real English words (5+ letters), read once per process: typo tolerance must never
    "correct" a real word ("context" into "content", "project" into "protect")."""
    global _english
    if _english is None:
        try:
            with gzip.open(_ENGLISH_WORDS, "rt", encoding="ascii") as fh:
                _english = frozenset(fh.read().split())
        except OSError:
            _english = frozenset()  # without the list, typo tolerance is merely less careful
    return _english


class Hit(NamedTuple):
    """A NamedTuple, not a frozen dataclass: a message makes dozens, and a frozen
    dataclass's __init__ costs several times more."""

    kind: int
    owner: int  # rule index, or pitfall-rule index
    group: int  # pitfall group index (0 otherwise)
    start: int  # token span [start, end)
    end: int
    phrase: Phrase
    fuzzy: bool


@dataclass(frozen=True)
class Matches:
    rules: tuple[Hit, ...]
    pitfall_groups: frozenset[tuple[int, int]]
    ai_context: bool  # an AI-context phrase is present
    negations: tuple[Hit, ...]
    hedges: tuple[Hit, ...]


class Matcher:
    def __init__(self, knowledge: Knowledge) -> None:
        # Single words (and phrases with a gap right after the first word) are keyed by their
        # stem; longer phrases by their first two stems, so a common first word such as "the"
        # or "who" does not make every message walk hundreds of phrases.
        # Entries: (size, plain key as a list or None, stems a walk needs or None, key, kind,
        # owner, group, phrase).
        self.index: dict[str, list[tuple]] = {}
        self.index2: dict[tuple[str, str], list[tuple]] = {}
        self.exact_index: dict[str, list[tuple]] = {}  # phrases starting with an exact word form, by that word
        for r, rule in enumerate(knowledge.rules):
            for phrase in rule.phrases:
                self._add(phrase, RULE, r)
        for p, prule in enumerate(knowledge.pitfall_rules):
            for g, group in enumerate(prule.groups):
                for phrase in group.phrases:
                    self._add(phrase, PITFALL, p, g)
        lang = knowledge.language
        for kind, phrases in ((CONTEXT, lang.ai_context), (EXCLUSION, lang.exclusions),
                              (NEGATION, lang.negations), (HEDGE, lang.hedges)):  # fmt: skip
            for phrase in phrases:
                self._add(phrase, kind, -1)
        vocab = {
            _stemmer(stem[1:]) if stem.startswith(EXACT) else stem
            for table in (self.index, self.index2, self.exact_index) for entries in table.values() for e in entries for stem in e[3] if stem != GAP
        }  # fmt: skip
        self.vocab = frozenset(vocab)
        self._buckets: dict[str, list[str]] = {}
        for stem in sorted(vocab):
            if len(stem) >= FUZZY_MIN_LEN and stem.isalpha():
                self._buckets.setdefault(stem[0], []).append(stem)
        self._fuzzy_cache: dict[str, str | None] = {}
        self.english = english_words()

    def _add(self, phrase: Phrase, kind: int, owner: int, group: int = 0) -> None:
        key = phrase.key
        # A key of plain stems is compared as one list slice (in C); only keys with a gap or
        # an exact word form need the step-by-step walk, and a walk is tried only when every
        # stem it needs is somewhere in the message (one subset test, in C).
        plain = all(k != GAP and not k.startswith(EXACT) for k in key)
        need = None if plain else frozenset(k for k in key[1:] if k != GAP and not k.startswith(EXACT))
        entry = (len(key), list(key) if plain else None, need, key, kind, owner, group, phrase)
        if key[0].startswith(EXACT):
            self.exact_index.setdefault(key[0][1:], []).append(entry)
        elif len(key) >= 2 and key[1] != GAP and not key[1].startswith(EXACT):
            self.index2.setdefault((key[0], key[1]), []).append(entry)
        else:
            self.index.setdefault(key[0], []).append(entry)

    def correct(self, stem: str) -> str | None:
        """The vocabulary stem a misspelt word most likely meant, or None.

        Only long alphabetic words, same first letter, one edit (two when both are very
        long); results are cached because chat vocabulary repeats.
        """
        if stem in self._fuzzy_cache:
            return self._fuzzy_cache[stem]
        found = None
        if len(stem) >= FUZZY_MIN_LEN - 1 and stem.isalpha():
            limit = 1 if len(stem) < FUZZY_TWO_EDITS_LEN else 2
            bucket = self._buckets.get(stem[0])
            if bucket:
                best = process.extractOne(stem, bucket, scorer=OSA.distance, score_cutoff=limit)
                if best is not None and (best[1] <= 1 or len(best[0]) >= FUZZY_TWO_EDITS_LEN):
                    found = best[0]
        if len(self._fuzzy_cache) >= _FUZZY_CACHE_CAP:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[stem] = found
        return found

    def match(self, tokens: Tokens) -> Matches:
        stems = list(tokens.stems)
        corrected: dict[int, str] = {}
        vocab = self.vocab
        english = self.english
        for i, stem in enumerate(stems):
            # The word's length counts, not its stem's: "decdes" stems to "decd".
            if stem not in vocab and len(tokens.words[i]) >= FUZZY_MIN_LEN and tokens.words[i] not in english:
                fixed = self.correct(stem)
                if fixed is not None:
                    stems[i] = fixed
                    corrected[i] = fixed
        hits: list[Hit] = []
        words = tokens.words
        present = None  # the message's stems as a set, made when a walk is first considered
        # Look every position up in one C-level pass per index; single-key entries are
        # complete at one stem, pair-key entries at two.
        lookups = [(1, map(self.index.get, stems)), (2, map(self.index2.get, zip(stems, stems[1:])))]
        if self.exact_index:
            lookups.insert(1, (1, map(self.exact_index.get, words)))
        for keyed, found_at in lookups:
            for i, found in enumerate(found_at):
                if found is None:
                    continue
                for size, plain, need, key, kind, owner, group, phrase in found:
                    if size == keyed:
                        end = i + keyed
                    elif plain is not None:
                        end = i + size if stems[i : i + size] == plain else 0
                    else:
                        if present is None:
                            present = set(stems)
                        end = _walk(stems, words, i, key) if need <= present else 0
                    if end:
                        fuzzy = bool(corrected) and any(k in corrected for k in range(i, end))
                        hits.append(Hit(kind, owner, group, i, end, phrase, fuzzy))
        hits.sort(key=_start)  # by position; at one position in index order, as the rules expect
        blocked = set()
        for h in hits:
            if h.kind == EXCLUSION:
                blocked.update(range(h.start, h.end))
        rules, groups, negations, hedges = [], set(), [], []
        context = False
        for h in hits:
            if h.kind in (RULE, PITFALL, CONTEXT) and blocked and any(k in blocked for k in range(h.start, h.end)):
                continue
            if h.kind == RULE:
                rules.append(h)
            elif h.kind == PITFALL:
                groups.add((h.owner, h.group))
            elif h.kind == CONTEXT:
                context = True
            elif h.kind == NEGATION:
                negations.append(h)
            elif h.kind == HEDGE:
                hedges.append(h)
        return Matches(tuple(_most_specific(rules)), frozenset(groups), context, tuple(negations), tuple(hedges))


def _start(hit: Hit) -> int:
    return hit.start


def _walk(stems: list[str], words: tuple[str, ...], i: int, key: tuple[str, ...]) -> int:
    """End index (exclusive) if `key` matches at position i, else 0. GAP skips up to MAX_GAP
    words; an EXACT token compares the word as written instead of its stem."""
    pos = i + 1
    n = len(stems)
    k = 1
    while k < len(key):
        want = key[k]
        if want == GAP:
            want = key[k + 1]
            limit = min(n, pos + MAX_GAP + 1)
            while pos < limit and not _same(stems, words, pos, want):
                pos += 1
            if pos >= limit:
                return 0
            k += 2
            pos += 1
            continue
        if pos >= n or not _same(stems, words, pos, want):
            return 0
        pos += 1
        k += 1
    return pos


def _same(stems: list[str], words: tuple[str, ...], pos: int, want: str) -> bool:
    if want[0] == EXACT:
        return words[pos] == want[1:]
    return stems[pos] == want


def _most_specific(hits: list[Hit]) -> list[Hit]:
    """Drop a rule hit whose span lies strictly inside a longer rule hit.

    "kill switch" should explain a message, not "kill" as well. One sweep over the hits in
    (start, longest-first) order: a hit is covered if an earlier-starting hit reaches as far.
    """
    if len(hits) < 2:
        return hits
    keep = []
    reach_end, reach_start = -1, -1
    for h in sorted(hits, key=lambda h: (h.start, -h.end)):
        if reach_end >= h.end and (reach_start < h.start or reach_end > h.end):
            continue
        keep.append(h)
        if h.end > reach_end:
            reach_end, reach_start = h.end, h.start
    return keep
