"""Fixtures of the synth tests: hand-written biomedical texts and the shared-data location."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

# Hand-written sentences (not from any corpus). Each marker word picks a server script in the
# annotation tests; the lexicon terms make the fake teacher's answers non-trivial.
TEXTS = {
    "t01": "Germline BRCA1 variants raise the lifetime risk of breast cancer in carriers.",
    "t02": "Loss of TP53 in HeLa cells blunted the response to cisplatin (FENCE case).",
    "t03": "Metformin use was linked to lower incidence of type 2 diabetes in the cohort (CHATTY).",
    "t04": "Serum interleukin-6 rose within hours of sepsis onset in mice and in patients (TRUNC).",
    "t05": "Tamoxifen reduced recurrence of breast cancer in BRCA1 carriers (GARBAGE then fine).",
    "t06": "Vancomycin cleared Staphylococcus aureus bacteremia in most cases (RATE limited).",
    "t07": "Cisplatin resistance in ovarian carcinoma involved TP53 mutations (FLAKY server).",
    "t08": "Metformin lowered interleukin-6 in mice fed a high-fat diet (SLOW reply).",
    "t09": "Ovarian carcinoma cells were exposed to tamoxifen for three days (SCHEMA drift).",
    "t10": "Sepsis survivors showed persistent interleukin-6 elevation at discharge.",
    "t11": "No known entities appear in this sentence about committee scheduling.",
    "t12": "HeLa cells were transfected with a plasmid encoding BRCA1 fragments.",
}

SCRIPTS = {
    "FENCE": ["fence"],
    "CHATTY": ["chatty"],
    "TRUNC": ["truncated"],
    "GARBAGE": ["garbage", "ok"],
    "RATE": ["429", "ok"],
    "FLAKY": ["500", "503", "ok"],
    "SLOW": ["slow", "ok"],
    "SCHEMA": ["wrong_schema", "ok"],
}


def write_texts(path: Path, texts: dict[str, str]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for rid, text in texts.items():
            fh.write(json.dumps({"id": rid, "source": "handwritten", "text": text}) + "\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture
def texts_file(tmp_path: Path) -> Path:
    return write_texts(tmp_path / "texts.jsonl", TEXTS)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside the checkout")
    return SHARED_DATA.resolve()
