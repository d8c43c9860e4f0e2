"""Any OpenAI-compatible chat endpoint (llama.cpp server, Ollama, vLLM, …) over plain HTTP."""

from __future__ import annotations

import json

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from avatar_site.lib.engines import EngineUnavailable
from avatar_site.lib.http import AnswerTooLarge, read_within
from chat.engines import llm_errors
from chat.engines.base import LanguageModel

CONNECT_SECONDS = 10.0
MAX_ANSWER_BYTES = 16 * 2**20


class OpenAICompatible(LanguageModel):
    name = "openai-compatible"

    @property
    def service(self) -> str:
        return _("The language model server %(url)s") % {"url": settings.LLM_OPENAI_BASE_URL}

    def check_available(self) -> None:
        if not settings.LLM_OPENAI_BASE_URL:
            raise EngineUnavailable(_(
                "The %(name)s language model needs LLM_OPENAI_BASE_URL (e.g. http://127.0.0.1:8080/v1 for "
                "llama.cpp, http://127.0.0.1:11434/v1 for Ollama) and LLM_OPENAI_MODEL."
            ) % {"name": self.name})
        if not settings.LLM_OPENAI_MODEL:
            raise EngineUnavailable(_("The %(name)s language model needs LLM_OPENAI_MODEL (the served model's name).")
                                    % {"name": self.name})

    def reply(self, messages: list[dict]) -> str:
        self.check_available()
        url = settings.LLM_OPENAI_BASE_URL.rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json"}
        if settings.LLM_OPENAI_API_KEY:
            headers["Authorization"] = f"Bearer {settings.LLM_OPENAI_API_KEY}"
        body = {"model": settings.LLM_OPENAI_MODEL, "messages": messages, "stream": False}
        try:
            response = requests.post(
                url, json=body, headers=headers, timeout=(CONNECT_SECONDS, settings.LLM_OPENAI_TIMEOUT), stream=True
            )
            with response:
                answer = read_within(response, settings.LLM_OPENAI_TIMEOUT, MAX_ANSWER_BYTES)
        except requests.Timeout:
            raise llm_errors.timeout_failure(self.service, settings.LLM_OPENAI_TIMEOUT) from None
        except requests.RequestException:
            raise llm_errors.connection_failure(self.service, url) from None
        except AnswerTooLarge:
            raise llm_errors.empty_failure(self.service) from None
        if response.status_code != 200:
            text = answer.decode(errors="replace")
            raise llm_errors.status_failure(self.service, response.status_code, text, "LLM_OPENAI_API_KEY")
        try:
            content = json.loads(answer)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise llm_errors.empty_failure(self.service) from None
        if not isinstance(content, str) or not content.strip():
            raise llm_errors.empty_failure(self.service)
        return content
