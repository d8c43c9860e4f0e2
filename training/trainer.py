"""Training an avatar: run the engine into the avatar's folder and record how it went."""

from __future__ import annotations

import math
import time
from pathlib import Path

from avatar_site.lib.storage import remove_tree
from monitoring.errors import JobCancelled
from training.engines import get_talking_head_engine
from training.engines.base import TrainingJob
from training.models import Avatar


def train_avatar(avatar: Avatar, progress) -> dict:
    """Train ``avatar`` with its engine; on any failure its half-written folder is removed."""
    engine = get_talking_head_engine(avatar.engine)
    job = TrainingJob(
        avatar_id=avatar.id,
        source_video=Path(avatar.source_video),
        avatar_dir=avatar.folder,
        epochs=avatar.epochs,
        params=avatar.params,
        gpu=avatar.gpu,
    )
    started = time.monotonic()
    try:
        remove_tree(avatar.folder)  # what a deleted avatar of the same id may have left is not this one's
        avatar.folder.mkdir(parents=True)
        manifest = engine.train(job, progress)
    except BaseException as exc:
        avatar.mark_untrained(Avatar.Status.CANCELLED if isinstance(exc, JobCancelled) else Avatar.Status.FAILED)
        raise
    manifest = _finite({
        "engine": avatar.engine,
        "avatar_id": avatar.id,
        "epochs": avatar.epochs,
        "params": avatar.params,
        **manifest,
        "training_seconds": round(time.monotonic() - started, 1),
    })
    avatar.write_manifest(manifest)
    avatar.metrics = {key: manifest[key] for key in ("losses", "scores", "training_seconds") if key in manifest}
    avatar.status = Avatar.Status.READY
    avatar.save(update_fields=["metrics", "status"])
    return manifest


def _finite(value):
    """``value`` with NaN and infinities as None: an engine's score of a degenerate case (no
    variation to correlate) must not fail the training at the very end (JSON has no NaN, and
    SQLite and PostgreSQL refuse the row)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
