"""Fine-tune the student annotator on the exported SFT data (TRL ``SFTTrainer`` + PEFT LoRA).

Needs the ``distill`` extra (``datasets``, ``trl``, ``peft``); all three are imported only when
training starts. Differences from the reference script, on purpose:

* the loss covers the assistant answer only (``loss_on="assistant"``, TRL's prompt-completion
  format), not the prompt and the padding;
* LoRA on all linear layers by default, adapter saved to ``output_dir/adapter`` and, with
  ``merge_lora``, merged full weights to ``output_dir/merged`` (what vLLM serves);
* checkpoints every ``save_steps``; rerunning the same command resumes from the newest one.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from biomedner.io.jsonl import write_json_atomic
from biomedner.logging import get_logger

logger = get_logger(__name__)


class StudentTrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str  # hub id or local directory of a causal LM with a chat template
    train_file: str
    eval_file: str | None = None
    output_dir: str
    loss_on: Literal["assistant", "all"] = "assistant"
    lora_r: int = Field(default=16, ge=1)
    lora_alpha: int = Field(default=32, ge=1)
    lora_dropout: float = Field(default=0.05, ge=0, lt=1)
    target_modules: list[str] | Literal["all-linear"] = "all-linear"
    learning_rate: float = Field(default=2e-4, gt=0)
    num_train_epochs: float = Field(default=1.0, gt=0)
    max_steps: int = -1
    per_device_train_batch_size: int = Field(default=2, ge=1)
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    max_length: int = Field(default=4096, ge=16)
    lr_scheduler_type: str = "cosine"
    warmup_ratio: float = Field(default=0.03, ge=0, lt=1)
    weight_decay: float = Field(default=0.0, ge=0)
    max_grad_norm: float = Field(default=1.0, gt=0)
    logging_steps: int = Field(default=10, ge=1)
    save_steps: int = Field(default=200, ge=1)
    save_total_limit: int = Field(default=2, ge=1)
    bf16: bool = False
    gradient_checkpointing: bool = False
    use_cpu: bool = False
    seed: int = 42
    merge_lora: bool = False
    resume: bool = True


def _log_callback_class() -> type:
    from transformers import TrainerCallback

    class LogCallback(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if logs:
                logger.info("step %d: %s", state.global_step, logs)

    return LogCallback


def _LogCallback() -> Any:
    return _log_callback_class()()


def _load_data(config: StudentTrainConfig) -> tuple[Any, Any]:
    from datasets import load_dataset

    files = {"train": config.train_file}
    if config.eval_file:
        files["eval"] = config.eval_file
    ds = load_dataset("json", data_files=files)

    def to_prompt_completion(ex: dict[str, Any]) -> dict[str, Any]:
        messages = ex["messages"]
        if not messages or messages[-1]["role"] != "assistant":
            raise ValueError(f"record {ex.get('id')!r} does not end with an assistant turn")
        return {"prompt": messages[:-1], "completion": messages[-1:]}

    columns = ds["train"].column_names
    if config.loss_on == "assistant":
        ds = ds.map(to_prompt_completion, remove_columns=columns)
    else:
        ds = ds.remove_columns([c for c in columns if c != "messages"])
    return ds["train"], ds.get("eval")


def train_student(config: StudentTrainConfig) -> dict[str, Any]:
    """Train and return a JSON-serialisable report (steps, losses, output paths); the report is
    also written to ``output_dir/train_student.report.json``."""
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.trainer_callback import PrinterCallback
    from transformers.trainer_utils import get_last_checkpoint
    from trl import SFTConfig, SFTTrainer

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_ds, eval_ds = _load_data(config)
    tokenizer = AutoTokenizer.from_pretrained(config.model)
    if tokenizer.chat_template is None:
        raise ValueError(f"{config.model} has no chat template; the student needs one")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(config.model)

    # transformers 5 folds warmup_ratio into a fractional warmup_steps; 4.x has both fields
    names = {f.name for f in dataclasses.fields(SFTConfig)}
    warmup = (
        {"warmup_ratio": config.warmup_ratio}
        if "warmup_ratio" in names
        else {"warmup_steps": config.warmup_ratio}
    )
    args = SFTConfig(
        **warmup,
        output_dir=str(out),
        max_length=config.max_length,
        completion_only_loss=config.loss_on == "assistant",
        learning_rate=config.learning_rate,
        num_train_epochs=config.num_train_epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.per_device_train_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        lr_scheduler_type=config.lr_scheduler_type,
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        eval_strategy="no",
        bf16=config.bf16,
        gradient_checkpointing=config.gradient_checkpointing,
        use_cpu=config.use_cpu,
        seed=config.seed,
        report_to="none",
        disable_tqdm=True,
    )
    peft_config = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.target_modules,
        task_type="CAUSAL_LM",
    )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    # the library logs; transformers' PrinterCallback would print every log dict to stdout
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(_LogCallback())
    resume_from = get_last_checkpoint(str(out)) if config.resume and out.is_dir() else None
    if resume_from:
        logger.info("resuming student training from %s", resume_from)
    result = trainer.train(resume_from_checkpoint=resume_from)
    adapter_dir = out / "adapter"
    trainer.save_model(str(adapter_dir))
    tokenizer.save_pretrained(str(adapter_dir))
    report: dict[str, Any] = {
        "config": config.model_dump(),
        "resumed_from": os.path.basename(resume_from) if resume_from else None,
        "global_step": int(result.global_step),
        "train_loss": float(result.training_loss),
        "train_examples": len(train_ds),
        "adapter_dir": adapter_dir.name,
    }
    if eval_ds is not None and len(eval_ds):
        metrics = trainer.evaluate()
        report["eval_loss"] = float(metrics["eval_loss"])
        report["eval_examples"] = len(eval_ds)
    if config.merge_lora:
        merged_dir = out / "merged"
        merged = trainer.model.merge_and_unload()
        merged.save_pretrained(str(merged_dir))
        tokenizer.save_pretrained(str(merged_dir))
        report["merged_dir"] = merged_dir.name
    write_json_atomic(report, out / "train_student.report.json")
    return report
