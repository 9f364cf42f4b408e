"""The registered benchmarks as they are in ../shared/data: mention counts equal to the data
README's table, registered hashes, and gold scored against itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from biomedner.evaluation import list_benchmarks, load_benchmark
from biomedner.evaluation.benchmarks import BenchmarkSplit
from biomedner.evaluation.scoring import BootstrapConfig, score_entities

pytestmark = pytest.mark.shared_data

# (documents, mentions) per split as in ../shared/data/README.md (documents are sentences for
# the IOB corpora). JNLPBA and CHIA have no official dev/test: the README counts whole files.
README = {
    "ncbi_disease": {"train": (593, 5145), "dev": (100, 787), "test": (100, 960)},
    "bc5cdr": {"train": (500, 9385), "dev": (500, 9591), "test": (500, 9809)},
    "biored": {"train": (400, 13351), "dev": (100, 3533), "test": (100, 3535)},
    "jnlpba": {"test": (404, 8662)},
    "bionlp13cg": {"train": (3033, 10826), "dev": (1003, 3616), "test": (1906, 6881)},
    "craft": {"train": (10875, 29026), "dev": (3730, 9727), "test": (7425, 18881)},
}
JNLPBA_TRAIN = (2000, 51301)
CHIA_DOCS, CHIA_T_LINES = 2000, 48870


@pytest.fixture(scope="module")
def loaded(shared_benchmarks: Path) -> dict[tuple[str, str], BenchmarkSplit]:
    return {
        (name, split): load_benchmark(name, split, data_root=shared_benchmarks)
        for name in list_benchmarks()
        for split in ("train", "dev", "test")
    }


@pytest.mark.parametrize("name", sorted(README))
def test_mention_counts_match_the_data_readme(loaded, name: str) -> None:
    for split, (n_docs, n_mentions) in README[name].items():
        b = loaded[(name, split)]
        assert (len(b.documents), b.counts["raw_mentions"]) == (n_docs, n_mentions), split
        assert b.n_mentions == n_mentions  # no type dropped


def test_jnlpba_dev_is_a_document_split_of_train(loaded) -> None:
    train, dev = loaded[("jnlpba", "train")], loaded[("jnlpba", "dev")]
    assert len(train.documents) + len(dev.documents) == JNLPBA_TRAIN[0]
    assert train.n_mentions + dev.n_mentions == JNLPBA_TRAIN[1]
    assert not {d.id for d in train.documents} & {d.id for d in dev.documents}
    assert len(dev.documents) == 200


def test_chia_reads_every_annotation_line(loaded) -> None:
    parts = [loaded[("chia", s)] for s in ("train", "dev", "test")]
    assert sum(len(p.documents) for p in parts) == CHIA_DOCS
    ids = [{d.id for d in p.documents} for p in parts]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    counts = parts[0].report.counts  # every split reads the whole pool
    read_t_lines = counts["annotation_lines"] + counts["offset_mismatches_skipped"]
    assert read_t_lines == CHIA_T_LINES
    assert counts["offset_mismatches_skipped"] == 2


def test_gold_against_itself_scores_one_everywhere(loaded) -> None:
    for (name, split), b in loaded.items():
        if split != "test":
            continue
        gold = [d.entities for d in b.documents]
        r = score_entities(gold, gold, types=b.labels, bootstrap=BootstrapConfig(50))
        for m in ("strict", "relaxed", "boundary"):
            assert r.metrics[m]["micro"]["f1"] == 1.0, (name, m)
            assert r.metrics[m]["micro"]["ci95"]["f1"] == [1.0, 1.0]
        assert r.metrics["strict"]["macro"]["f1"] == 1.0
        assert set(r.metrics["strict"]["per_type"]) == set(b.labels), name


def test_biored_pubtator_and_bioc_xml_agree(shared_benchmarks: Path) -> None:
    from biomedner.corpora import read

    pt = read(shared_benchmarks / "biored" / "pubtator" / "Test.PubTator", "pubtator")
    xml = read(shared_benchmarks / "biored" / "bioc_xml" / "Test.BioC.XML", "bioc-xml")
    assert [(d.id, d.text) for d in pt] == [(d.id, d.text) for d in xml]
    assert [sorted((e.start, e.end, e.label) for e in d.entities) for d in pt] == [
        sorted((e.start, e.end, e.label) for e in d.entities) for d in xml
    ]


def test_score_a_prediction_file_against_a_registered_split(
    loaded, shared_benchmarks: Path, tmp_path: Path
) -> None:
    from biomedner.corpora import write
    from biomedner.evaluation.score_files import score_files

    gold = loaded[("bc5cdr", "test")].documents
    write(gold, tmp_path / "pred.xml", "bioc-xml")
    report = score_files(
        "bc5cdr:test", tmp_path / "pred.xml", data_root=shared_benchmarks, n_resamples=20
    )
    entry = report.benchmarks["bc5cdr"]
    assert entry["n_gold"] == entry["n_pred"] == 9809
    assert entry["metrics"]["strict"]["micro"]["f1"] == 1.0
    assert entry["data_hash"] == loaded[("bc5cdr", "test")].data_hash
