"""Candidate phrases for the annotation prompt, without an NLP dependency.

The reference pipeline lists spaCy noun chunks as hints. This module takes the classic
stop-word-delimited phrases instead (as RAKE does): maximal runs of content words that do not cross
punctuation, each copied verbatim from the text. It over-generates a little and misses phrases with
internal function words ("tumour necrosis factor alpha" survives, "quality of life" splits), which
is acceptable for hints the model may ignore.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[\w][\w\-/+'.]*[\w]|[\w]", re.UNICODE)
_BREAK = re.compile(r"[,;:()\[\]{}!?\"]|\.\s")
_FUNCTION_WORDS = """a about above after again against all also although am among an and any are
as at be because been before being below between both but by can could did do does doing during
each either few for from further had has have having he her here hers herself him himself his how
i if in into is it its itself may might more most much must my neither no nor not of off on once
only or other our ours out over own per same she should since so some such than that the their
them then there these they this those through thus to too under until up upon very via was we were
what when where whether which while who whom why will with within without would yet you your
however whereas therefore respectively using used use compared versus vs study studies patients results
conclusion conclusions methods background objective objectives aim aims"""
# frequent verbs of abstracts, which would otherwise glue noun phrases together
_VERBS = """show shows showed shown reveal reveals revealed suggest suggests suggested indicate
indicates indicated demonstrate demonstrates demonstrated find finds found report reports reported
observe observes observed increase increases increased decrease decreases decreased reduce reduces
reduced improve improves improved raise raises raised lower lowers lowered predict predicts
predicted start starts started cause causes caused lead leads led develop develops developed
receive receives received undergo underwent undergone remain remains remained occur occurs
occurred associate associated involve involves involved include includes included performed
evaluate evaluated assess assessed investigate investigated examine examined compare identify
identified determine determined measure measured shortened prolonged enhanced inhibited blunted
rose rise rises risen fell fall falls fallen"""
_STOP = frozenset(_FUNCTION_WORDS.split()) | frozenset(_VERBS.split())


def candidate_phrases(text: str, max_words: int = 6, limit: int = 80) -> list[str]:
    """Distinct content-word phrases of ``text`` in order of first appearance, each a substring
    of ``text``; at most ``limit`` phrases of at most ``max_words`` words."""
    out: list[str] = []
    seen: set[str] = set()
    breaks = [m.start() for m in _BREAK.finditer(text)]
    run: list[re.Match[str]] = []

    def flush() -> None:
        if run and len(run) <= max_words:
            phrase = text[run[0].start() : run[-1].end()]
            if any(c.isalpha() for c in phrase) and phrase not in seen:
                seen.add(phrase)
                out.append(phrase)
        run.clear()

    b = 0
    for m in _TOKEN.finditer(text):
        while b < len(breaks) and breaks[b] < m.start():
            flush()
            b += 1
        if m.group().lower() in _STOP:
            flush()
        else:
            run.append(m)
        if len(out) >= limit:
            break
    flush()
    return out[:limit]
