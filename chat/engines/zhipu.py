"""Zhipu GLM through the official ``zhipuai`` SDK (api_choice ``glm-4-plus``)."""

from __future__ import annotations

import httpx
import zhipuai
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from avatar_site.lib.engines import EngineUnavailable
from avatar_site.lib.http import answer_deadline
from chat.engines import llm_errors
from chat.engines.base import LanguageModel
from monitoring.errors import JobFailed

SERVICE = gettext_lazy("The Zhipu GLM API")
DEFAULT_BASE_URL = "https://open.bigmodel.cn/api/paas/v4"
MAX_ANSWER_BYTES = 16 * 2**20


class Zhipu(LanguageModel):
    name = "glm-4-plus"
    model = "glm-4-plus"

    def check_available(self) -> None:
        if not settings.ZHIPUAI_API_KEY:
            raise EngineUnavailable(_(
                "The %(name)s language model needs a Zhipu API key: set ZHIPUAI_API_KEY "
                "(from https://open.bigmodel.cn/)."
            ) % {"name": self.name})

    def base_url(self) -> str:
        return settings.ZHIPUAI_BASE_URL or DEFAULT_BASE_URL

    def client(self, http_client: httpx.Client) -> zhipuai.ZhipuAI:
        return zhipuai.ZhipuAI(
            api_key=settings.ZHIPUAI_API_KEY,
            base_url=self.base_url(),
            timeout=settings.ZHIPUAI_TIMEOUT,
            max_retries=settings.ZHIPUAI_MAX_RETRIES,
            http_client=http_client,
        )

    def reply(self, messages: list[dict]) -> str:
        self.check_available()
        # The SDK's timeout bounds each read; the hook bounds each attempt's whole answer.
        hooks = {"response": [answer_deadline(settings.ZHIPUAI_TIMEOUT, MAX_ANSWER_BYTES)]}
        try:
            with httpx.Client(timeout=settings.ZHIPUAI_TIMEOUT, event_hooks=hooks) as http_client:
                completion = self.client(http_client).chat.completions.create(model=self.model, messages=messages)
        except zhipuai.APITimeoutError:  # before APIConnectionError: it is a subclass
            raise llm_errors.timeout_failure(SERVICE, settings.ZHIPUAI_TIMEOUT) from None
        except zhipuai.APIConnectionError as exc:
            if isinstance(exc.__cause__, httpx.DecodingError):  # over MAX_ANSWER_BYTES (the SDK wraps it)
                raise llm_errors.empty_failure(SERVICE) from None
            raise llm_errors.connection_failure(SERVICE, self.base_url()) from None
        except zhipuai.APIStatusError as exc:
            raise llm_errors.status_failure(
                SERVICE, exc.status_code, exc.response.text, "ZHIPUAI_API_KEY"
            ) from None
        except zhipuai.ZhipuAIError as exc:
            raise JobFailed(_("%(service)s failed: %(error)s") % {"service": SERVICE, "error": exc}, 502) from None
        except ValueError:  # a 200 whose body is not the JSON it claims
            raise llm_errors.empty_failure(SERVICE) from None
        # The SDK does not validate answers: a missing field would otherwise surface as a crash.
        choices = getattr(completion, "choices", None)
        message = getattr(choices[0], "message", None) if isinstance(choices, list) and choices else None
        content = getattr(message, "content", None)
        if not isinstance(content, str) or not content.strip():
            raise llm_errors.empty_failure(SERVICE)
        return content
