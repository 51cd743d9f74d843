"""Small talk: greetings, thanks and chatter are not concerns.

"hi" used to get a nine-line lecture and a record as an `unclear` concern, which also
skewed the stats. A message counts as small talk only when no rule fired and it is short
and made of everyday chatter, so a terse real concern ("our model leaks data") still gets
triaged.
"""
from __future__ import annotations

import re

from .verdict import REJECTED

HINT = ("Hi! Describe an AI concern in a sentence or two and I'll say whether it's technical, "
        "societal or both, and who to involve; `help` lists the commands.")
MAX_WORDS = 8
_WORD = re.compile(r"[a-z0-9']+")
# Openers and closers of everyday chat; a message made only of these (and filler) is chatter.
_CHATTER = frozenset("""
hi hello hey hiya yo howdy morning afternoon evening night good gm gn hallo
thanks thank thx ty cheers appreciated great awesome nice cool ok okay k kk sure yes yeah yep no nope np
bye goodbye later cya see you u all everyone team folks guys there lol haha :) welcome sorry please pls
how are is it going what's up sup today tomorrow
standup meeting lunch coffee call sync at in the a an for on to be back brb ping pm am
""".split())
_CLOCK = re.compile(r"^\d{1,2}([:.]\d{2})?(am|pm)?$")


def is_small_talk(text: str, verdict) -> bool:
    """True for chatter the triage found nothing in: no rule fired and every word is
    everyday chat (greetings, thanks, scheduling)."""
    if verdict.category != "unclear" or verdict.signals or verdict.reason in REJECTED:
        return False
    words = _WORD.findall(text.lower())
    if not words or len(words) > MAX_WORDS:
        return False
    return all(w in _CHATTER or _CLOCK.match(w) for w in words)
