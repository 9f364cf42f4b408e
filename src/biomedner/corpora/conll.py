"""CoNLL-style token/tag files: one token per line with its tag, sentences separated by blank
lines, ``-DOCSTART-`` lines ignored (counted). Each sentence becomes one document whose text is
its tokens joined by single spaces, so entity offsets are exact in that text.

Columns: ``token<TAB>tag`` (also ``token ... tag`` with extra middle columns) or
``tag<TAB>token``; ``columns="auto"`` picks whichever column holds only tags. Schemes: ``iob2``
(a mention starts with ``B-``; BIO is the same thing) and ``iob1`` (``I-`` starts a mention
unless it continues one of the same type; ``B-`` only separates adjacent mentions). In ``iob2``
an ``I-`` that does not continue a mention of its type starts one and is counted as
``orphan_inside_tags``.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from biomedner.corpora._util import iter_lines
from biomedner.corpora.document import Document
from biomedner.corpora.report import ReadReport
from biomedner.errors import FormatError, InputError
from biomedner.io.atomic import atomic_open
from biomedner.types import Entity

_TAG = re.compile(r"^(?:O|[BIES]-.+)$")
COLUMNS = ("auto", "token-tag", "tag-token")
SCHEMES = ("iob2", "iob1")


def _rows(path: Path, report: ReadReport) -> list[list[tuple[int, list[str]]]]:
    sentences: list[list[tuple[int, list[str]]]] = []
    cur: list[tuple[int, list[str]]] = []
    for lineno, line in iter_lines(path):
        if not line.strip():
            if cur:
                sentences.append(cur)
            cur = []
            continue
        if line.startswith("-DOCSTART-"):
            report.add("docstart_lines")
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        if len(fields) < 2:
            raise FormatError(
                f"expected a token and a tag separated by a tab, got {line[:60]!r}",
                str(path),
                lineno,
            )
        cur.append((lineno, fields))
    if cur:
        sentences.append(cur)
    return sentences


def _tag_column(sentences: list[list[tuple[int, list[str]]]], columns: str, path: Path) -> int:
    if columns == "token-tag":
        return -1
    if columns == "tag-token":
        return 0
    if columns != "auto":
        raise InputError(f"columns must be one of {COLUMNS}, got {columns!r}")
    last_ok = first_ok = True
    decided_at = None  # the line that ruled out the second of the two columns
    for sent in sentences:
        for lineno, f in sent:
            last_ok = last_ok and bool(_TAG.match(f[-1]))
            first_ok = first_ok and bool(_TAG.match(f[0]))
            if not (last_ok or first_ok):
                decided_at = lineno
                break
        if decided_at is not None:
            break
    if last_ok:
        return -1
    if first_ok:
        return 0
    raise FormatError(
        "neither the first nor the last column holds only tags (O, B-X, I-X) up to this line "
        "(choose the tag column with --columns token-tag or tag-token)",
        str(path),
        decided_at,
    )


def read_conll(
    path: Path,
    report: ReadReport,
    *,
    columns: str = "auto",
    scheme: str = "iob2",
    id_prefix: str | None = None,
) -> list[Document]:
    if scheme not in SCHEMES:
        raise InputError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    sentences = _rows(path, report)
    tag_col = _tag_column(sentences, columns, path)
    tok_col = 1 if tag_col == 0 else 0
    prefix = id_prefix if id_prefix is not None else path.stem
    docs = []
    for n, sent in enumerate(sentences, start=1):
        tokens: list[str] = []
        spans: list[tuple[int, int]] = []
        tags: list[str] = []
        pos = 0
        for lineno, f in sent:
            tok, tag = f[tok_col], f[tag_col]
            if not _TAG.match(tag):
                raise FormatError(f"{tag!r} is not an IOB tag (O, B-X, I-X)", str(path), lineno)
            if not tok or len(tok.split()) != 1 or tok.strip() != tok:
                raise FormatError(f"token {tok!r} is empty or contains spaces", str(path), lineno)
            if tokens:
                pos += 1
            tokens.append(tok)
            spans.append((pos, pos + len(tok)))
            tags.append(tag)
            pos += len(tok)
        text = " ".join(tokens)
        entities = [
            Entity(spans[a][0], spans[b][1], text[spans[a][0] : spans[b][1]], label)
            for a, b, label in _decode(tags, scheme, report, path, sent[0][0])
        ]
        docs.append(Document(f"{prefix}-{n:06d}", text, entities))
    return docs


def _decode(
    tags: list[str], scheme: str, report: ReadReport, path: Path, first_line: int
) -> list[tuple[int, int, str]]:
    """(first token, last token inclusive, type) of each mention."""
    out: list[tuple[int, int, str]] = []
    start: int | None = None
    cur_type = ""
    for i, tag in enumerate(tags):
        kind, typ = (tag[0], tag[2:]) if tag != "O" else ("O", "")
        if kind in "SE":
            # BIOES single/end tags are mapped onto B/I so that such files read too
            kind = "B" if kind == "S" else "I"
        continues = start is not None and kind == "I" and typ == cur_type
        if kind == "B" and scheme == "iob1" and start is not None and typ == cur_type:
            continues = False
        if continues:
            continue
        if start is not None:
            out.append((start, i - 1, cur_type))
            start = None
        if kind == "O":
            continue
        if kind == "I" and scheme == "iob2":
            report.add(
                "orphan_inside_tags",
                f"{path}:{first_line + i}: {tag} does not continue a mention; it starts one",
            )
        start, cur_type = i, typ
    if start is not None:
        out.append((start, len(tags) - 1, cur_type))
    return out


def write_conll(docs: list[Document], path: Path, report: ReadReport) -> None:
    """``token<TAB>tag`` in IOB2. Tokens are the whitespace-separated pieces of the text, split
    further at entity boundaries; overlapping entities cannot be written and raise FormatError."""
    out: list[str] = []
    for doc in docs:
        ents = doc.sorted_entities()
        for a, b in itertools.pairwise(ents):
            if b.start < a.end:
                raise FormatError(
                    f"document {doc.id!r}: entities {a.text!r} [{a.start},{a.end}) and "
                    f"{b.text!r} [{b.start},{b.end}) overlap; IOB cannot hold nested or "
                    "overlapping mentions",
                    str(path),
                )
        for e in ents:
            if e.text != e.text.strip():
                raise FormatError(
                    f"document {doc.id!r}: entity {e.text!r} begins or ends with whitespace, "
                    "which token tags cannot express",
                    str(path),
                )
            if " " in e.label:
                report.add("labels_with_spaces_rewritten")
        tokens = split_tokens(doc.text, [(e.start, e.end) for e in ents])
        if not tokens:
            # a sentence needs at least one token line, so an empty document has no form here
            report.add("empty_documents_skipped", f"{doc.id}: no tokens")
            continue
        for start, end in tokens:
            tag = "O"
            for e in ents:
                if e.start <= start < e.end:
                    tag = ("B-" if start == e.start else "I-") + "_".join(e.label.split())
                    break
            out.append(f"{doc.text[start:end]}\t{tag}")
        out.append("")
        report.documents += 1
        report.entities += len(ents)
    with atomic_open(path, newline="") as fh:
        fh.write("\n".join(out) + ("\n" if out else ""))


def split_tokens(text: str, boundaries: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Whitespace tokens of ``text`` as (start, end), cut again at every given span boundary so
    that each span is a whole number of tokens."""
    cuts = {b for span in boundaries for b in span}
    tokens = []
    for m in re.finditer(r"\S+", text):
        s = m.start()
        for c in sorted(x for x in cuts if m.start() < x < m.end()):
            tokens.append((s, c))
            s = c
        tokens.append((s, m.end()))
    return tokens
