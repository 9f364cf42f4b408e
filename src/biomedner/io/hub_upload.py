"""Publish a model on the Hugging Face hub: the checkpoint in the gliner layout plus a model
card, uploaded as one commit through ``huggingface_hub``."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biomedner.errors import InputError
from biomedner.io.model_card import (
    CardInfo,
    RunReports,
    build_model_card,
    find_reports,
    read_reports,
)
from biomedner.logging import get_logger

if TYPE_CHECKING:
    from biomedner.model import NERModel

logger = get_logger(__name__)


def check_repo_id(repo_id: str) -> str:
    """``owner/name`` as the hub accepts it; a mistake is an InputError saying what is wrong."""
    from huggingface_hub.utils import validate_repo_id

    if not isinstance(repo_id, str) or repo_id.count("/") != 1:
        raise InputError(f"repository id {repo_id!r} must look like 'owner/name'")
    try:
        validate_repo_id(repo_id)
    except Exception as exc:
        raise InputError(f"repository id {repo_id!r} is not valid: {exc}") from None
    return repo_id


def collect_reports(model: NERModel, reports: Sequence[str | Path] | None) -> RunReports:
    """The reports given, or else those beside the directory the model was loaded from."""
    if reports:
        return read_reports(reports)
    source = Path(model.name)
    return find_reports(source) if model.name and source.is_dir() else RunReports()


def write_upload_folder(
    model: NERModel,
    out_dir: str | Path,
    repo_id: str,
    *,
    card: CardInfo | None = None,
    reports: Sequence[str | Path] | None = None,
) -> Path:
    """The folder that would be uploaded: checkpoint files and README.md."""
    check_repo_id(repo_id)
    found = collect_reports(model, reports)
    out = Path(out_dir)
    model.save_pretrained(out)
    (out / "README.md").write_text(
        build_model_card(model.config, repo_id, card, found), encoding="utf-8"
    )
    return out


def push_model(
    model: NERModel,
    repo_id: str,
    *,
    private: bool = False,
    token: str | None = None,
    commit_message: str = "Upload biomedner model",
    card: CardInfo | None = None,
    reports: Sequence[str | Path] | None = None,
    api: Any = None,
) -> Any:
    """Create ``repo_id`` if needed and upload the checkpoint and its card in one commit.
    Returns huggingface_hub's CommitInfo. ``api`` replaces ``HfApi(token=token)``."""
    with tempfile.TemporaryDirectory(prefix="biomedner-push-") as tmp:
        # a bad repo id or report fails here, before the hub is contacted
        folder = write_upload_folder(model, tmp, repo_id, card=card, reports=reports)
        if api is None:
            from huggingface_hub import HfApi

            api = HfApi(token=token)
        api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        info = api.upload_folder(
            repo_id=repo_id,
            folder_path=str(folder),
            repo_type="model",
            commit_message=commit_message,
        )
    logger.info("uploaded %s to %s", model.name, repo_id)
    return info
