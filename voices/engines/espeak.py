"""The base voice: Debian's espeak-ng, run with an argument list and the text on stdin."""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
from django.utils.translation import gettext as _

from avatar_site.lib.engines import EngineUnavailable

# espeak-ng voice per language; Mandarin reads tone-numbered pinyin (its "cmn" voice is broken).
LANGUAGE_VOICES = {"en": "en-us", "zh": "cmn-latn-pinyin"}
WORDS_PER_MINUTE = {"en": 155, "zh": 150}


def binary() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise EngineUnavailable(_("The builtin voice engine needs espeak-ng (apt-get install espeak-ng)."))
    return path


def say(text: str, language: str, variant: str = "", words_per_minute: int | None = None) -> np.ndarray:
    """16 kHz mono samples of ``text`` read by espeak-ng in ``language`` with voice ``variant``.

    ``words_per_minute`` defaults to the language's rate in ``WORDS_PER_MINUTE``.
    """
    rate = words_per_minute or WORDS_PER_MINUTE[language]
    from voices.engines.world_voice import load_mono  # scipy and WORLD: not in web processes

    voice = LANGUAGE_VOICES[language] + (f"+{variant}" if variant else "")
    # Text goes through stdin, never the command line: it cannot be read as an option. The WAV
    # comes back on stdout: no scratch file that a killed worker would leave behind.
    try:
        spoken = subprocess.run(
            [binary(), "-v", voice, "-s", str(rate), "-b", "1", "--stdin", "--stdout"],
            input=text.encode("utf-8"), check=True, capture_output=True, timeout=120,
        )
    except subprocess.TimeoutExpired:
        raise EngineUnavailable(_("espeak-ng did not finish speaking within 120 s.")) from None
    except subprocess.CalledProcessError as exc:  # e.g. a build without the cmn-latn-pinyin voice
        reason = exc.stderr.decode(errors="replace").strip()[:300] or _("exit code %(returncode)s") % {"returncode": exc.returncode}
        raise EngineUnavailable(_("espeak-ng could not speak with the voice %(voice)s: %(reason)s")
                                % {"voice": voice, "reason": reason}) from None
    return load_mono(io.BytesIO(spoken.stdout))
