"""The built-in CPU talking-head engine (MediaPipe face mesh + a small torch audio→mouth network)."""

from __future__ import annotations

from training.engines.builtin.engine import BuiltinTalkingHead

__all__ = ["BuiltinTalkingHead"]
