"""Corpus curation: sources, quality filters, decontamination, deduplication, sampling."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from biomedner.errors import FormatError
from biomedner.synth.curate import CurateConfig, curate
from biomedner.synth.decontam import ContaminationIndex, DecontamConfig
from biomedner.synth.dedup import DedupConfig, find_duplicates, lsh_params
from biomedner.synth.quality import QualityConfig, quality_reason
from biomedner.synth.sources import SourceSpec, read_source
from biomedner.synth.textnorm import fingerprint
from tests.synth.conftest import read_jsonl

# Hand-written abstracts of about 60 words each (none is taken from a real corpus).
ABSTRACTS = [
    "Chronic kidney disease affects many adults with long-standing hypertension. We enrolled 240 "
    "outpatients and measured urinary albumin, serum creatinine and blood pressure every three "
    "months for two years. Patients receiving angiotensin receptor blockers showed slower decline "
    "of estimated glomerular filtration rate than those receiving calcium channel blockers. "
    "Albuminuria at baseline predicted faster progression independent of age and sex.",
    "Influenza vaccination of pregnant women may protect infants too young to be vaccinated. In a "
    "cohort of 1,130 mother-infant pairs we compared laboratory-confirmed influenza during the "
    "first six months of life. Maternal vaccination in the third trimester was associated with "
    "fewer infant hospital admissions, and cord blood antibody titres correlated with protection "
    "during the first influenza season.",
    "Intestinal organoids derived from biopsies of patients with ulcerative colitis retain "
    "epithelial defects in culture. We exposed organoids to tumour necrosis factor and measured "
    "barrier function, tight junction protein expression and apoptosis. Organoids from inflamed "
    "segments showed reduced claudin expression and increased caspase activity, which a Janus "
    "kinase inhibitor partly reversed within forty-eight hours.",
    "Delirium after cardiac surgery prolongs hospital stay and raises mortality in older adults. "
    "This randomised trial assigned 310 patients aged seventy or more to perioperative "
    "dexmedetomidine or placebo. Delirium was assessed twice daily with a validated confusion "
    "assessment method. Dexmedetomidine reduced the incidence of delirium during the first five "
    "postoperative days without increasing bradycardia or hypotension.",
    "Antibiotic stewardship programmes aim to limit resistance without harming patients. Across "
    "twelve community hospitals we introduced prospective audit and feedback for broad-spectrum "
    "agents. Carbapenem use fell by a third over eighteen months, rates of Clostridioides "
    "difficile infection declined, and thirty-day mortality and readmission did not change "
    "compared with the year before the intervention started.",
    "Zebrafish larvae regenerate sensory hair cells of the lateral line within days after "
    "ototoxic damage. Using live imaging and single-cell sequencing we traced support cells that "
    "divide and differentiate into new hair cells. Notch signalling restrained proliferation, and "
    "its pharmacological inhibition doubled the number of regenerated hair cells, suggesting "
    "targets for hearing restoration in mammals.",
]
BENCH_TITLE = "Statin therapy and muscle symptoms in elderly patients."


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_quality_reasons() -> None:
    cfg = QualityConfig()
    assert quality_reason(ABSTRACTS[0], cfg) is None
    assert quality_reason("", cfg) == "empty"
    assert quality_reason("Too short to be an abstract.", cfg) == "too_short_chars"
    assert quality_reason(ABSTRACTS[0], cfg, has_abstract=False) == "no_abstract"
    table = " | ".join(f"{i}.{i} {i * 3}.{i}" for i in range(60))
    assert quality_reason(table, cfg) in {"low_alpha_fraction", "high_digit_fraction"}
    repeated = " ".join(["the patient was discharged home"] * 20)
    assert quality_reason(repeated, cfg) in {
        "low_lexical_diversity",
        "repeated_bigram",
        "repeated_5grams",
    }
    shouting = ABSTRACTS[1].upper()
    assert quality_reason(shouting, cfg) == "high_upper_word_fraction"
    assert quality_reason(shouting, QualityConfig(max_upper_word_fraction=None)) is None
    assert (
        quality_reason(
            "x",
            QualityConfig(
                min_chars=None, min_words=None, min_alpha_fraction=None, min_mean_word_length=None
            ),
        )
        is None
    )


def test_near_duplicates_keep_the_first() -> None:
    edited = ABSTRACTS[0].replace("240 outpatients", "250 outpatients")
    recased = ABSTRACTS[1].upper().replace(",", " ,")
    texts = [ABSTRACTS[0], ABSTRACTS[1], edited, recased, ABSTRACTS[2]]
    dups = find_duplicates(texts, DedupConfig(threshold=0.8))
    assert {(d.index, d.kept) for d in dups} == {(2, 0), (3, 1)}
    by_index = {d.index: d for d in dups}
    assert by_index[3].similarity == 1.0  # equal after normalisation
    assert 0.8 <= by_index[2].similarity < 1.0
    assert find_duplicates(texts, DedupConfig(near=False, exact=False)) == []
    bands, rows = lsh_params(0.8, 128)
    assert bands * rows <= 128 and (1 / bands) ** (1 / rows) <= 0.8


def test_contamination_index() -> None:
    index = ContaminationIndex(DecontamConfig())
    index.add("bench/test", BENCH_TITLE + " " + ABSTRACTS[3], pmid="31000001")
    # abstract without the title, re-wrapped and re-cased: a long shared word sequence
    hit = index.check(ABSTRACTS[3].replace(". ", ".\n").lower())
    assert hit is not None and hit.reason == "ngram" and hit.reference_set == "bench/test"
    assert hit.shared_ngrams > 20
    assert index.check("Any text at all.", pmid="31000001").reason == "pmid"  # type: ignore[union-attr]
    assert index.check((BENCH_TITLE + " " + ABSTRACTS[3]).upper()).reason == "fingerprint"  # type: ignore[union-attr]
    for text in ABSTRACTS[:3] + ABSTRACTS[4:]:
        assert index.check(text) is None
    # one shared boilerplate phrase is not contamination
    boiler = "Differences were considered significant when the two sided p value was below 0.05."
    index.add("bench/other", boiler + " " + ABSTRACTS[5])
    assert index.check(ABSTRACTS[4] + " " + boiler) is None
    # a short benchmark sentence counts when quoted whole and long enough
    sentence = "Notch inhibition doubled regenerated hair cells in zebrafish larvae after ototoxic damage in two independent experiments."
    index.add("bench/sentences", sentence)
    assert index.check(ABSTRACTS[1] + " " + sentence).reference_set == "bench/sentences"  # type: ignore[union-attr]


def _sources(tmp_path: Path) -> list[SourceSpec]:
    csv_path = _csv(
        tmp_path / "trials.csv",
        [
            {"abstract": t, "term": "x"}
            for t in (ABSTRACTS[0], ABSTRACTS[1], "too short", ABSTRACTS[3])
        ],
    )
    jsonl = tmp_path / "lab.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps({"id": f"lab{i}", "text": t}) + "\n"
            for i, t in enumerate([ABSTRACTS[2], ABSTRACTS[0].replace("240", "250"), ABSTRACTS[4]])
        )
    )
    txt_dir = tmp_path / "notes"
    txt_dir.mkdir()
    (txt_dir / "n1.txt").write_text(ABSTRACTS[5])
    return [
        SourceSpec(path=str(csv_path), name="trials"),
        SourceSpec(path=str(jsonl), name="lab"),
        SourceSpec(path=str(txt_dir), name="notes"),
        SourceSpec(path=str(Path(__file__).parent / "data" / "pubmed_sample.xml"), name="pubmed"),
    ]


def test_curate_end_to_end(tmp_path: Path) -> None:
    # benchmark: title + abstract 3 (the corpus holds abstract 3 alone) and PMID 90000003
    bench = {"bench/test": [("31000001", BENCH_TITLE + " " + ABSTRACTS[3]), ("90000003", "x")]}
    cfg = CurateConfig(
        sources=_sources(tmp_path), quality=QualityConfig(min_chars=100, min_words=15)
    )
    out = tmp_path / "curated.jsonl"
    report = curate(cfg, out, benchmark_texts=bench)
    rows = read_jsonl(out)
    texts = {r["text"] for r in rows}
    assert ABSTRACTS[3] not in texts  # the planted benchmark abstract is gone
    assert {ABSTRACTS[0], ABSTRACTS[1], ABSTRACTS[2], ABSTRACTS[4], ABSTRACTS[5]} <= texts
    assert not any(r.get("pmid") == "90000003" for r in rows)
    pubmed = [r for r in rows if r["source"] == "pubmed"]
    assert [r["id"] for r in pubmed] == ["pmid:90000001"]
    assert pubmed[0]["mesh"] == ["Diabetes Mellitus, Type 2", "Humans"]

    c = report["counts"]
    assert c["read"] == 4 + 3 + 1 + 3
    assert c["written"] == len(rows) == 6
    assert c["decontaminated"] == 2 and c["near_duplicates"] == 1
    assert report["contamination_by_reason"] == {"benchmark_ngram": 1, "benchmark_pmid": 1}
    assert report["quality_dropped_by_reason"] == {"too_short_chars": 1, "no_abstract": 1}
    removed = read_jsonl(tmp_path / "curated.removed.jsonl")
    assert len(removed) + len(rows) == c["read"]
    by_reason = {(r["stage"], r["reason"]) for r in removed}
    assert ("decontaminate", "ngram") in by_reason and ("decontaminate", "pmid") in by_reason
    assert ("dedup", "near_duplicate") in by_reason
    ngram = next(r for r in removed if r["reason"] == "ngram")
    assert ngram["reference_set"] == "benchmark:bench/test" and ngram["reference_id"] == "31000001"
    dup = next(r for r in removed if r["reason"] == "near_duplicate")
    assert dup["id"] == "lab1" and dup["source"] == "lab"
    assert json.loads((tmp_path / "curated.report.json").read_text())["counts"] == c


def test_exclude_and_balanced_sampling(tmp_path: Path) -> None:
    done = tmp_path / "done.jsonl"
    done.write_text(json.dumps({"id": "old", "text": ABSTRACTS[1]}) + "\n")
    specs = _sources(tmp_path)[:2]
    cfg = CurateConfig(
        sources=specs,
        exclude=[SourceSpec(path=str(done))],
        use_benchmark_registry=False,
        quality=QualityConfig(min_chars=100, min_words=15),
        sampling={"balance": True, "seed": 1},
    )
    report = curate(cfg, tmp_path / "c.jsonl")
    rows = read_jsonl(tmp_path / "c.jsonl")
    assert ABSTRACTS[1] not in {r["text"] for r in rows}
    assert report["counts"]["excluded"] == 1
    assert report["benchmark_source"] == "none"
    # trials keeps 2 (abstracts 0 and 3), lab keeps 2 of 3 after dedup -> both capped at 2
    per = report["per_source"]
    assert per["trials"]["written"] == per["lab"]["written"] == 2
    assert report["counts"]["sampled_out"] == 0
    capped = CurateConfig.model_validate(
        {**cfg.model_dump(), "sampling": {"max_per_source": 1, "seed": 1}}
    )
    again = curate(capped, tmp_path / "c2.jsonl")
    assert again["per_source"]["trials"]["written"] == 1 == again["per_source"]["lab"]["written"]
    assert again["counts"]["sampled_out"] == 2


def test_source_errors(tmp_path: Path) -> None:
    bad = _csv(tmp_path / "b.csv", [{"body_text": "x", "n": "1"}])
    with pytest.raises(FormatError, match="no text column"):
        list(read_source(SourceSpec(path=str(bad))))
    with pytest.raises(FileNotFoundError):
        list(read_source(SourceSpec(path=str(tmp_path / "missing.csv"))))
    odd = tmp_path / "data.parquet"
    odd.write_text("x")
    with pytest.raises(FormatError, match="cannot tell the format"):
        list(read_source(SourceSpec(path=str(odd))))
    assert SourceSpec.parse("name=" + str(bad)).name == "name"
    assert SourceSpec.parse(str(bad)).source_name == "b"
    with pytest.raises(ValueError, match="Extra inputs"):
        CurateConfig.model_validate({"sources": [{"path": "x"}], "qualty": {}})


@pytest.mark.shared_data
@pytest.mark.slow
def test_raw_text_overlap_with_teacher_texts_is_found(shared_data: Path, tmp_path: Path) -> None:
    """Every text the teacher annotated came from raw_text; curation must exclude all of them."""
    teacher = shared_data / "synthetic" / "teacher_v1" / "texts.jsonl"
    cfg = CurateConfig(
        sources=[
            SourceSpec(path=str(shared_data / "raw_text" / "jsc370_pubmed.csv"), name="jsc370"),
            SourceSpec(path=str(shared_data / "raw_text" / "medical_tc_test.csv"), name="mtc"),
        ],
        exclude=[SourceSpec(path=str(teacher))],
        use_benchmark_registry=False,
        # every raw text stays in play: no quality thresholds
        quality=QualityConfig(
            **{k: None for k in QualityConfig.model_fields if k != "require_abstract"}
        ),
        dedup=DedupConfig(near=False),
    )
    report = curate(cfg, tmp_path / "c.jsonl")
    removed = read_jsonl(tmp_path / "c.removed.jsonl")
    found = {r["reference_id"] for r in removed if r["stage"] == "exclude"}
    teacher_rows = [json.loads(line) for line in teacher.read_text().splitlines()]
    # two of the 1,200 teacher texts are the same abstract up to punctuation: compare fingerprints
    fp_of = {row["id"]: fingerprint(row["text"]) for row in teacher_rows}
    assert {fp_of[i] for i in found} == set(fp_of.values())
    kept = {r["text"] for r in read_jsonl(tmp_path / "c.jsonl")}
    teacher_texts = {row["text"] for row in teacher_rows}
    assert not kept & teacher_texts
    assert report["counts"]["excluded"] >= 1200
