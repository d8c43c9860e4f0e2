"""One turn of voice chat: recognise the question, ask the LLM, speak and render the answer."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from chat.engines import get_language_model, get_recognizer
from chat.models import Conversation, Turn
from generation.renderer import render_speech
from monitoring.errors import JobFailed
from monitoring.models import Task
from training.models import Avatar
from voices.models import Speaker


class ChatError(JobFailed):
    pass


def chat_turn(
    task: Task,
    conversation: Conversation,
    recording: Path,
    avatar: Avatar,
    speaker: Speaker,
    llm_name: str,
    gpu: str,
    output: Path,
    progress,
) -> dict:
    timings: dict[str, float] = {}

    progress(2, _("Recognising speech"))
    started = time.monotonic()
    question = get_recognizer().transcribe(recording).strip()
    timings["asr"] = round(time.monotonic() - started, 3)
    if not question:
        raise ChatError(_("No words were recognised in the recording."))
    progress.log(_("Heard: %(question)s") % {"question": question})  # kept in the log if a later step fails

    progress(15, _("Asking the language model"))
    messages = [{"role": "system", "content": settings.CHAT_SYSTEM_PROMPT}]
    messages += conversation.recent_messages(settings.CHAT_HISTORY_TURNS)
    messages.append({"role": "user", "content": question})
    started = time.monotonic()
    answer = get_language_model(llm_name).reply(messages).strip()
    timings["llm"] = round(time.monotonic() - started, 3)
    if not answer:
        raise ChatError(_("The language model gave an empty answer."), http_status=502)
    answer = _speakable_length(answer, settings.MAX_TEXT_CHARS)

    render_speech(avatar, speaker, answer, gpu, output, progress.scaled(30, 100), timings)
    try:
        Turn.objects.create(conversation=conversation, task=task, question=question, answer=answer)
    except Exception:
        output.unlink(missing_ok=True)  # the job fails: its video must not stay behind, unlisted
        if not Conversation.objects.filter(pk=conversation.pk).exists():
            raise ChatError(_("The conversation was deleted while its answer was being made."), http_status=410) from None
        raise
    return {"transcript": question, "response": answer, "timings": timings}


def _speakable_length(answer: str, limit: int) -> str:
    """An answer longer than the speech limit, cut after its last whole sentence that fits."""
    if len(answer) <= limit:
        return answer
    head = answer[:limit]
    cut = max(head.rfind(mark) for mark in ".!?。！？\n")
    return head[: cut + 1].strip() if cut > limit // 2 else head
