"""What a run is built from: the model to train, each stage's example stream, the eval set."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import torch

from biomedner.errors import ConfigError
from biomedner.logging import get_logger
from biomedner.model import NERModel
from biomedner.training.batching import StageStream
from biomedner.training.config import Source, StageConfig, TrainConfig, resolve_model_ref
from biomedner.training.evaluate import EvalSet, eval_set_from_benchmark, eval_set_from_records
from biomedner.training.examples import ExampleSettings, build_examples
from biomedner.training.sources import load_source

logger = get_logger(__name__)


def build_model(config: TrainConfig, device: torch.device) -> NERModel:
    m = config.model
    if m.checkpoint is not None:
        return NERModel.from_pretrained(
            resolve_model_ref(m.checkpoint, config.base_dir), device=device
        )
    assert m.backbone is not None
    return NERModel.from_backbone(
        resolve_model_ref(m.backbone, config.base_dir),
        labels_encoder=(
            resolve_model_ref(m.labels_encoder, config.base_dir) if m.labels_encoder else None
        ),
        hidden_size=m.hidden_size,
        max_width=m.max_width,
        max_len=m.max_len,
        dropout=m.dropout,
        num_rnn_layers=m.num_rnn_layers,
        words_splitter_type=m.words_splitter,
        seed=config.seed,
        device=device,
    )


@dataclass
class StageData:
    stream: StageStream
    pools: list[list[str]]  # per source: the labels negatives are drawn from
    info: list[dict[str, Any]]
    example_counts: dict[str, int]


def prepare_stage(
    config: TrainConfig,
    index: int,
    stage: StageConfig,
    model: NERModel,
    batch_size: int,
    bucket: int,
) -> StageData:
    pipeline = model.pipeline
    reserve = 0  # windows leave room for the prompt (uni-encoder on an absolute-position encoder)
    if pipeline.max_tokens is not None and pipeline.labels_in_prompt:
        reserve = int(config.data.prompt_token_reserve * pipeline.max_tokens)
    settings = ExampleSettings(prompt_reserve=reserve, unaligned=config.data.unaligned)
    sources, pools, infos = [], [], []
    totals: Counter[str] = Counter()
    on = [src for src in stage.sources if src.weight > 0]
    for src in stage.sources:
        if src.weight == 0:  # turned off (e.g. by --set): listed in the report, never read
            infos.append({"kind": src.kind, "weight": 0, "read": False})
            continue
        records, info = load_source(src, config)
        counts: Counter[str] = Counter()
        known_only = not samples_negatives(src)
        examples = build_examples(
            records, pipeline, replace(settings, known_labels_only=known_only), counts
        )
        if not examples:
            raise ConfigError(f"stage {stage.name!r}: a source yielded no examples: {info}")
        info["examples"] = dict(counts)
        totals.update(counts)
        sources.append(examples)
        pools.append(
            sorted(
                {s[2] for ex in examples for s in ex.spans}
                | {n for ex in examples for n in ex.negatives}
            )
        )
        infos.append(info)
        logger.info("stage %s source %s: %s", stage.name, info.get("kind"), dict(counts))
    pools = negative_pools(on, stage.negatives_from, pools)
    stream = StageStream(
        sources=sources,
        weights=[s.weight for s in on],
        batch_size=batch_size,
        bucket_batches=bucket,
        seed=config.seed,
        stage=index,
    )
    return StageData(stream=stream, pools=pools, info=infos, example_counts=dict(totals))


def samples_negatives(source: Source) -> bool:
    """Whether labels may be drawn as negatives for this source's examples: not for per-type
    query data, whose unasked types are unknown rather than absent."""
    return getattr(source, "sample_negatives", True)


def negative_pools(
    sources: list[Source], negatives_from: str, own: list[list[str]]
) -> list[list[str]]:
    """The labels each source's negatives are sampled from (``stages.negatives_from``)."""
    shared = sorted(set().union(*own)) if negatives_from == "stage" else None
    return [
        (shared or labels) if samples_negatives(src) else [] for src, labels in zip(sources, own)
    ]


def eval_set(config: TrainConfig) -> EvalSet | None:
    ev = config.eval
    if ev is None:
        return None
    if ev.benchmark is not None:
        return eval_set_from_benchmark(
            ev.benchmark, ev.split, data_root=ev.data_root, max_docs=ev.max_docs
        )
    return eval_set_from_records(
        str(config.resolve(ev.records)), labels=ev.labels, max_docs=ev.max_docs
    )
