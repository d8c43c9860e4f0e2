"""Starting a conversation turn from a /chat_system request: checks, the recording, the
conversation and the queued job."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.errors import NotFound
from chat import tasks
from chat.engines import get_language_model, get_recognizer
from chat.models import Conversation
from chat.recordings import save_recording
from generation.renderer import discard_if_imported, resolve_render_inputs
from monitoring import jobs
from monitoring.models import HistoryType, Task


def existing_conversation(user, conversation_id) -> Conversation | None:
    """The conversation a follow-up question names; None for a new one."""
    if conversation_id is None:
        return None
    conversation = Conversation.objects.filter(pk=conversation_id, owner=user).first()
    if conversation is None:
        raise NotFound(_("conversation_id: no conversation %(conversation_id)s.")
                       % {"conversation_id": conversation_id})
    return conversation


def submit_turn(data: dict, user) -> Task:
    """Check the engines, avatar and voice, store the recording and queue the turn. A new
    conversation is created only once the recording has been accepted, so refused recordings
    leave no empty conversations; a turn that could not be queued leaves neither."""
    gpu = data.get("gpu_choice") or settings.GPU_QUEUES[0]
    queue = jobs.queue_for(gpu)
    get_recognizer(queue=queue)
    get_language_model(data["api_choice"])
    conversation = existing_conversation(user, data.get("conversation_id"))
    avatar, speaker = resolve_render_inputs(user, data["model_name"], data["model_param"], data["ref_audio_id"],
                                            queue, text_given=True)  # the language model's reply
    with discard_if_imported(avatar):
        recording = save_recording(data["audio"], user)
        started = conversation is None
        if started:
            conversation = Conversation.objects.create(owner=user)
        try:
            return jobs.submit(
                HistoryType.CHAT_SYSTEM,
                tasks.answer_recording,
                {"model_name": data["model_name"], "model_param": avatar.id, "avatar_id": avatar.id,
                 "ref_audio_id": speaker.id, "api_choice": data["api_choice"], "gpu_choice": gpu,
                 "conversation_id": str(conversation.id), "recording_id": str(recording.id)},
                owner=user, queue=queue, gpu=gpu,
            )
        except jobs.TaskNotQueued:
            raise  # its task and history row say why (prune removes the recording in time)
        except Exception:
            recording.delete()
            if started:
                conversation.delete()
            raise
