"""Teacher mention strings -> character offsets, with every drop counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biomedner.data import read_records
from biomedner.errors import FormatError
from biomedner.synth.align import (
    AlignConfig,
    AlignCounts,
    align_files,
    align_mentions,
    find_occurrences,
    normalize_type,
)

TEXT = (
    "IL-2 signalling drives T cell growth. Blocking IL-2 with an IL-2R antibody, or knocking out "
    "IL-2-dependent genes, slowed growth of the T cell lines."
)


def _spans(text: str, mentions: list[tuple[str, str]], **cfg: object) -> list[tuple[str, str]]:
    out = align_mentions(text, mentions, AlignConfig(**cfg))  # type: ignore[arg-type]
    return [(text[s.start : s.end], s.label) for s in out]


def test_every_occurrence_on_word_boundaries() -> None:
    spans, kind = find_occurrences(TEXT, "IL-2")
    # "IL-2R" is one word (R continues the token), "IL-2-dependent" splits at the hyphen
    assert [TEXT[s:e] for s, e in spans] == ["IL-2", "IL-2", "IL-2"]
    assert [s for s, _ in spans] == [0, 47, 92]
    assert kind == "verbatim"
    assert find_occurrences("Levels of mRNAs fell.", "mRNA") == ([], "inside_word")
    assert find_occurrences("Levels fell.", "mRNA") == ([], "absent")


def test_case_policies() -> None:
    text = "Energy restriction lowered weight; energy restriction also lowered insulin."
    assert find_occurrences(text, "energy restriction", "fallback")[0] == [(35, 53)]
    assert find_occurrences(text, "Energy restriction", "fallback")[0] == [(0, 18)]
    assert find_occurrences(text, "ENERGY restriction", "fallback") == (
        [(0, 18), (35, 53)],
        "variant",
    )
    assert find_occurrences(text, "ENERGY restriction", "exact") == ([], "absent")
    assert find_occurrences(text, "energy restriction", "ignore")[0] == [(0, 18), (35, 53)]
    # the reason for "fallback": an acronym must not tag the ordinary word
    assert find_occurrences("In ALL, all patients relapsed.", "ALL")[0] == [(3, 6)]


def test_whitespace_in_mentions_matches_any_whitespace() -> None:
    text = "chronic kidney\ndisease"
    spans, kind = find_occurrences(text, "chronic kidney disease")
    assert spans == [(0, 22)] and kind == "variant"


def test_nested_kept_crossing_resolved_to_longer() -> None:
    text = "The mitral valve area was small."
    got = _spans(
        text, [("mitral valve", "anatomy"), ("valve area", "measurement"), ("mitral", "anatomy")]
    )
    assert got == [("mitral", "anatomy"), ("mitral valve", "anatomy")]
    counts = AlignCounts()
    align_mentions(text, [("mitral valve", "a"), ("valve area", "b")], AlignConfig(), counts)
    assert counts.counts["overlap_conflicts"] == 1
    assert counts.counts["entities_dropped_overlap"] == 1
    kept = _spans(text, [("mitral valve", "a"), ("valve area", "b")], overlap="keep_all")
    assert kept == [("mitral valve", "a"), ("valve area", "b")]


def test_same_span_several_types() -> None:
    text = "Aspirin was given."
    assert _spans(text, [("Aspirin", "drug"), ("Aspirin", "nsaid")]) == [
        ("Aspirin", "drug"),
        ("Aspirin", "nsaid"),
    ]
    assert _spans(text, [("Aspirin", "drug"), ("Aspirin", "nsaid")], same_span_types="first") == [
        ("Aspirin", "drug")
    ]


def test_normalize_type() -> None:
    assert normalize_type("  Gene_or  Protein\t") == "gene or protein"
    assert normalize_type("Cell Line") == "cell line"
    assert normalize_type("ＤＮＡ") == "dna"  # full-width forms fold under NFKC


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_files_count_every_mention_and_record(tmp_path: Path) -> None:
    texts = _write(
        tmp_path / "texts.jsonl",
        [
            {
                "id": "a",
                "source": "hand",
                "text": "Cisplatin and cisplatin-based regimens treat ovarian cancer.",
            },
            {"id": "b", "text": "Nothing to see here."},
            {"id": "c", "text": "Warfarin raised the INR."},
            {"id": "d", "text": "Text the teacher never saw."},
            {"id": "e", "text": "Heparin was stopped."},
        ],
    )
    anns = _write(
        tmp_path / "ann.jsonl",
        [
            {
                "id": "a",
                "entities": [
                    {"text": "Cisplatin", "type": "Drug"},
                    {"text": "cisplatin", "type": "drug"},
                    {"text": "cisplatin", "type": " DRUG "},  # duplicate after normalisation
                    {"text": "ovarian cancer", "type": "disease"},
                    {"text": "platinum", "type": "drug"},  # not in the text
                    {"text": "", "type": "drug"},  # invalid
                    {"type": "drug"},  # invalid
                ],
            },
            {"id": "b", "entities": []},
            {"id": "c", "entities": [{"text": "heparin", "type": "drug"}]},
            {"id": "zz", "entities": [{"text": "x", "type": "y"}]},
            {"id": "a", "entities": []},
            {
                "id": "e",
                "entities": [
                    {"text": "Heparin", "type": "drug"},
                    {"text": "aspirin", "type": "drug"},
                    {"text": "clopidogrel", "type": "drug"},
                ],
            },
        ],
    )
    out = tmp_path / "records.jsonl"
    report = align_files(texts, anns, out, AlignConfig(max_not_found_fraction=0.5))
    c = report["counts"]
    assert c["mentions_total"] == 11
    assert (
        c["mentions_invalid"]
        + c["mentions_duplicate"]
        + c["mentions_matched"]
        + c["mentions_not_found"]
        == c["mentions_total"]
    )
    assert (c["mentions_invalid"], c["mentions_duplicate"]) == (2, 1)
    assert (c["mentions_matched"], c["mentions_not_found"]) == (4, 4)
    assert c["records_kept"] == 1
    assert c["records_dropped"] == 5
    assert c["dropped_empty_annotation"] == 1  # b
    assert c["dropped_nothing_aligned"] == 1  # c
    assert c["dropped_no_text"] == 1  # zz
    assert c["dropped_duplicate_id"] == 1  # second a
    assert c["dropped_too_many_not_found"] == 1  # e: 2 of 3 not found
    assert c["entities_in_dropped_records"] == 1
    assert c["texts_without_annotation"] == 1  # d
    assert c["mentions_in_unmatched_annotations"] == 1  # zz (the repeated a is empty)
    assert c["annotations"] == c["records_kept"] + c["records_dropped"]

    records = read_records(out)
    assert [r.id for r in records] == ["a"]
    rec = records[0]
    # "cisplatin-based": the hyphen is a word boundary, so the lower-case mention is found there
    assert [(rec.span_text(e), e.label) for e in rec.entities] == [
        ("Cisplatin", "drug"),
        ("cisplatin", "drug"),
        ("ovarian cancer", "disease"),
    ]
    assert rec.provenance == {
        "source": "synthetic",
        "aligner": "biomedner.synth.align/v1",
        "text_source": "hand",
    }
    assert c["entities_written"] == 3
    on_disk = json.loads((tmp_path / "records.report.json").read_text())
    assert on_disk["counts"] == c
    assert "Cisplatin" not in (tmp_path / "records.report.json").read_text()  # counts, not text


def test_keep_empty_and_details(tmp_path: Path) -> None:
    texts = _write(
        tmp_path / "t.jsonl",
        [{"id": "b", "text": "Nothing here."}, {"id": "c", "text": "Some mRNAs."}],
    )
    anns = _write(
        tmp_path / "a.jsonl",
        [{"id": "b", "entities": []}, {"id": "c", "entities": [{"text": "mRNA", "type": "rna"}]}],
    )
    report = align_files(
        texts,
        anns,
        tmp_path / "o.jsonl",
        AlignConfig(keep_empty=True),
        details_path=tmp_path / "d.jsonl",
    )
    assert report["counts"]["records_kept"] == 1
    details = [json.loads(x) for x in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert {"id": "c", "event": "not_found_inside_word", "mention": "mRNA"} in details
    assert {"id": "c", "event": "dropped_nothing_aligned"} in details


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a"}', "missing field 'entities'"),
        ('{"id": "a", "entities": {}}', "'entities' must be a list"),
        ('{"entities": []}', "'id' must be a string"),
        ("not json", "not valid JSON"),
    ],
)
def test_malformed_annotation_lines_fail_loudly(tmp_path: Path, line: str, message: str) -> None:
    texts = _write(tmp_path / "t.jsonl", [{"id": "a", "text": "x"}])
    anns = tmp_path / "a.jsonl"
    anns.write_text('{"id": "a", "entities": []}\n' + line + "\n")
    with pytest.raises(FormatError, match=message) as err:
        align_files(texts, anns, tmp_path / "o.jsonl")
    assert err.value.line == 2


@pytest.mark.shared_data
@pytest.mark.slow
def test_teacher_v1_report_matches_committed(shared_data: Path, tmp_path: Path) -> None:
    """The committed docs/teacher_v1_alignment_report.json is what `synth align` produces."""
    committed = json.loads(
        (Path(__file__).parents[2] / "docs" / "teacher_v1_alignment_report.json").read_text()
    )
    base = shared_data / "synthetic" / "teacher_v1"
    report = align_files(
        base / "texts.jsonl",
        base / "annotations.jsonl",
        tmp_path / "teacher_v1_records.jsonl",
        AlignConfig(**committed["config"]),
    )
    assert report["counts"] == committed["counts"]
    assert report["inputs"] == committed["inputs"]
    c = report["counts"]
    assert c["records_kept"] + c["records_dropped"] == c["annotations"] == 1200
    assert len(read_records(tmp_path / "teacher_v1_records.jsonl")) == c["records_kept"]
