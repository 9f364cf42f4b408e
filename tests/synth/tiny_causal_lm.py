"""A tiny random causal LM with an in-code tokenizer and chat template, for student-training tests.

The tokenizer is a byte-level BPE trained in-code on the prompt files and a few hand-written lines
(so any text encodes, and the long system prompt becomes few tokens), with role markers as special
tokens; the chat template renders the prompt as a strict prefix of the full conversation, which
TRL needs for assistant-only loss."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
SPECIALS = ["<pad>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]
CORPUS = [
    "Germline BRCA1 variants raise the lifetime risk of breast cancer.",
    '{"entities": [{"text": "BRCA1", "type": "gene"}, {"text": "sepsis", "type": "disease"}]}',
]


def build_tiny_causal_lm(out: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    prompt_dir = resources.files("biomedner.synth.prompts") / "ner_v1"
    corpus = [
        *CORPUS,
        (prompt_dir / "system.md").read_text(),
        (prompt_dir / "user.jinja").read_text(),
    ]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1200,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="<|end|>", bos_token="<|end|>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
