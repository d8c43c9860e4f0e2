from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _

from avatar_site.lib.engines import availability, load_engine
from chat.engines.base import LanguageModel, SpeechRecognizer
from monitoring.engine_reports import worker_report


def get_recognizer(name: str | None = None, queue: str | None = None) -> SpeechRecognizer:
    """``queue``: where the job will run, for a web host that cannot run the recogniser itself."""
    return load_engine(settings.ASR_ENGINES, name or settings.ASR_ENGINE, _("speech recognition"),
                       queue and worker_report(queue))


def get_language_model(name: str) -> LanguageModel:
    return load_engine(settings.LLM_ENGINES, name, _("language model"))


def language_model_choices() -> list[dict]:
    """The chat page's language models; one without its key or server URL is listed disabled."""
    return availability(settings.LLM_ENGINES, _("language model"), configured_only=True)


def spoken_language() -> tuple[str, str] | None:
    """The language the configured recogniser hears: its code and its name in the reader's
    language (None: it detects any language)."""
    code = import_string(settings.ASR_ENGINES[settings.ASR_ENGINE])().spoken_language()
    if code is None:
        return None
    if code == "zh":  # Django knows Chinese only as its two written forms
        return code, _("Chinese")
    try:
        return code, get_language_info(code)["name_translated"]
    except KeyError:
        return code, code
