"""The builtin voice engine's work: espeak-ng speaks, WORLD conversion makes it sound like the speaker.

Loaded only where a job runs (WORLD, scipy, webrtcvad and resemblyzer's torch model are heavy);
``voices.engines.builtin.BuiltinVoice`` is the light engine class web processes check requests with.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.utils.translation import gettext as _

from voices.engines import espeak
from voices.engines.base import VoiceError
from voices.engines.text_frontend import chunks, language_runs, to_pinyin
from voices.engines.world_voice import (
    FRAME_PERIOD_MS,
    RATE,
    Conversion,
    SpeakerStats,
    analyse,
    best_warp,
    code,
    cosine,
    embedding,
    frame_bank,
    load_mono,
    speech_flags,
    speech_regions,
    warp,
    write_wav,
)

MIN_SPEECH_SECONDS = 3.0
MIN_VOICED_SECONDS = 0.5  # vowels and voiced consonants: the frames the voice is converted toward
SEGMENT_MIN_SECONDS, SEGMENT_MAX_SECONDS = 3.0, 9.5  # GPT-SoVITS refuses references outside 3–10 s
CLIPPED_FRACTION = 0.002
PAUSE_SECONDS = {"sentence": 0.25, "run": 0.05}
# Base-voice candidates: the conversion starts from the espeak variant whose conversion sounds most
# like the speaker (measured at extraction; pitch alone picked the wrong one for low female voices).
VARIANTS = ["", "m3", "m4", "f3", "f4"]
# English speaking rates tried with each variant (espeak's default first): a slower base voice came
# out closer to slow readers (LibriSpeech +0.03 similarity) and no worse for the others.
ENGLISH_RATES = [espeak.WORDS_PER_MINUTE["en"], 120]
CALIBRATIONS = len(VARIANTS) * len(ENGLISH_RATES) + 1  # and Mandarin with the chosen English variant
CALIBRATION = {
    "en": "The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore, "
          "and the weather is lovely today. Please call me when you arrive at the station.",
    "zh": to_pinyin("今天天气很好，我们一起去公园散步吧。欢迎大家来到这里，希望你们玩得开心。"),
}


class WorldClone:
    def __init__(self, blend: float, neighbours: int):
        self.blend, self.neighbours = blend, neighbours

    def extract(self, reference_wav: Path, original_wav: Path, speaker_dir: Path, progress) -> dict:

        samples = load_mono(reference_wav)
        if _clipped_fraction(original_wav) > CLIPPED_FRACTION:
            raise VoiceError(_("The reference recording is clipped (too loud); record it again at a lower level."))
        flags = speech_flags(samples)
        regions = speech_regions(flags)
        # Pauses under 0.3 s belong to speech (webrtcvad drops stop closures and short gaps).
        speech_seconds = sum(end - start for start, end in regions)
        if not regions:
            raise VoiceError(_("The reference recording contains no speech."))
        if speech_seconds < MIN_SPEECH_SECONDS:
            raise VoiceError(
                _("The reference has only %(speech_seconds).1f s of speech; at least %(minimum).0f s are needed.") % {"speech_seconds": speech_seconds, "minimum": MIN_SPEECH_SECONDS}
            )
        progress(10, _("Trimming silence"))
        start, end = max(regions[0][0] - 0.1, 0.0), min(regions[-1][1] + 0.1, len(samples) / RATE)
        trimmed = samples[int(start * RATE):int(end * RATE)]
        write_wav(speaker_dir / "trimmed.wav", trimmed)

        progress(20, _("Choosing the best reference segment"))
        seg_start, seg_end = _best_segment(regions, len(samples) / RATE)
        _write_segment(original_wav, speaker_dir / "best_segment.wav", seg_start, seg_end)

        progress(35, _("Measuring the speaker embedding"))
        speaker_embedding = embedding(trimmed)
        np.save(speaker_dir / "embedding.npy", speaker_embedding)

        progress(50, _("Analysing pitch and spectral envelope"))
        analysis = analyse(trimmed, robust=True)
        voiced_seconds = analysis.voiced.sum() * FRAME_PERIOD_MS / 1000
        if voiced_seconds < MIN_VOICED_SECONDS:
            raise VoiceError(_("The reference has only %(voiced_seconds).1f s of voiced speech (vowels); "
                               "at least %(minimum)g s are needed. Record someone speaking.")
                             % {"voiced_seconds": voiced_seconds, "minimum": MIN_VOICED_SECONDS})
        coded = code(analysis.sp)
        target = SpeakerStats.of(analysis, coded)
        np.save(speaker_dir / "frames.npy", frame_bank(analysis, coded))
        mean_log_sp = np.log(analysis.sp[analysis.voiced]).mean(axis=0)

        base_voices = self._calibrate(target, mean_log_sp, speaker_embedding, speaker_dir, progress)
        progress(100, _("Voice features extracted"))
        return {
            "speech_seconds": round(speech_seconds, 2),
            "trimmed_seconds": round(len(trimmed) / RATE, 2),
            "embedding": [round(float(v), 6) for v in speaker_embedding],
            "embedding_file": "embedding.npy",
            "f0": {
                "log_mean": target.log_f0_mean, "log_std": target.log_f0_std,
                "mean_hz": round(float(np.exp(target.log_f0_mean)), 1),
            },
            "envelope": {key: value for key, value in target.as_dict().items() if not key.startswith("log_f0")},
            "frames_file": "frames.npy",
            "best_segment": {
                "file": "best_segment.wav", "start": round(seg_start, 2), "end": round(seg_end, 2),
                "seconds": round(seg_end - seg_start, 2),
                # A transcript of the whole reference only matches the segment when it is the whole speech.
                "covers_all_speech": bool(seg_start <= regions[0][0] and seg_end >= regions[-1][1]),
            },
            "base_voices": base_voices,
        }

    def _calibrate(self, target: SpeakerStats, mean_log_sp: np.ndarray, speaker_embedding, speaker_dir: Path,
                   progress) -> dict:
        """Per language: the espeak variant, frequency warp and base statistics the conversion uses.

        Each candidate variant and English speaking rate is converted and the pair whose result
        sounds most like the speaker (resemblyzer cosine) is kept; the English variant serves
        Mandarin too, at Mandarin's default rate.
        """
        bank = np.load(speaker_dir / "frames.npy")
        chosen: dict[str, dict] = {}
        tried = 0
        for language in ("en", "zh"):
            scored = []
            candidates = (
                [(variant, rate) for variant in VARIANTS for rate in ENGLISH_RATES]
                if language == "en"
                else [(chosen["en"]["variant"], espeak.WORDS_PER_MINUTE[language])]
            )
            for variant, rate in candidates:
                tried += 1
                progress(65 + 34 * (tried - 1) / CALIBRATIONS,
                         _("Calibrating the base voice (%(done)s/%(total)s)") % {"done": tried, "total": CALIBRATIONS})
                base = espeak.say(CALIBRATION[language], language, variant, rate)
                analysis = analyse(base)
                alpha = best_warp(analysis, mean_log_sp)
                base_stats = SpeakerStats.of(analysis, code(warp(analysis.sp, alpha)))
                calibration = {
                    "variant": variant, "words_per_minute": rate, "alpha": alpha, "stats": base_stats.as_dict()
                }
                similarity = 0.0
                if language == "en":
                    converted = Conversion(target, base_stats, alpha, bank, self.blend, self.neighbours).apply(base)
                    similarity = cosine(embedding(converted), speaker_embedding)
                scored.append((similarity, calibration))
            similarity, calibration = max(scored, key=lambda item: item[0])
            chosen[language] = {**calibration, "calibration_similarity": round(similarity, 3)}
        return chosen

    def synthesize(self, text: str, speaker_dir: Path, profile: dict, output_wav: Path, progress) -> None:

        envelope = profile["envelope"]
        target = SpeakerStats.from_dict(
            {"log_f0_mean": profile["f0"]["log_mean"], "log_f0_std": profile["f0"]["log_std"], **envelope}
        )
        bank = np.load(speaker_dir / profile.get("frames_file", "frames.npy"))
        conversions = {
            language: Conversion(
                target, SpeakerStats.from_dict(base["stats"]), base["alpha"], bank, self.blend, self.neighbours
            )
            for language, base in profile["base_voices"].items()
        }
        pieces = chunks(text)
        output: list[np.ndarray] = []
        for index, chunk in enumerate(pieces):
            if hasattr(progress, "check_cancelled"):
                progress.check_cancelled()
            for run in language_runs(chunk):
                # Profiles made before rate calibration have no words_per_minute: espeak's default.
                base_voice = profile["base_voices"][run.language]
                base = espeak.say(run.text, run.language, base_voice["variant"], base_voice.get("words_per_minute"))
                output.append(conversions[run.language].apply(base))
                output.append(np.zeros(int(PAUSE_SECONDS["run"] * RATE)))
            output.append(np.zeros(int(PAUSE_SECONDS["sentence"] * RATE)))
            progress(100 * (index + 1) / len(pieces), _("Spoke %(done)s/%(total)s sentences")
                                                      % {"done": index + 1, "total": len(pieces)})
        samples = np.concatenate(output) if output else np.zeros(0)
        if not np.any(np.abs(samples) > 1e-3):
            raise VoiceError(_("The text contains nothing that can be spoken."))
        write_wav(output_wav, samples)


def _clipped_fraction(path: Path) -> float:
    """Share of samples stuck at the top of the range (the decoded copy keeps the original rate)."""
    samples = load_mono(path, rate=_rate_of(path))
    if samples.size == 0:
        return 0.0
    return float(np.mean(np.abs(samples) >= 0.999))


def _rate_of(path: Path) -> int:
    import soundfile

    return soundfile.info(str(path)).samplerate


def _best_segment(regions: list[tuple[float, float]], total: float) -> tuple[float, float]:
    """The 3–9.5 s window, cut at pauses, holding the most speech (GPT-SoVITS's prompt)."""
    best: tuple[float, float, float] | None = None
    for first in range(len(regions)):
        start = max(regions[first][0] - 0.1, 0.0)
        speech = 0.0
        for last in range(first, len(regions)):
            end = min(regions[last][1] + 0.1, total)
            if end - start > SEGMENT_MAX_SECONDS:
                if last == first:  # one long stretch of speech: cut it at the limit
                    end = start + SEGMENT_MAX_SECONDS
                    speech = end - start
                    best = max(best or (0, 0, 0), (speech, start, end))
                break
            speech += regions[last][1] - regions[last][0]
            if end - start >= SEGMENT_MIN_SECONDS and (best is None or speech > best[0]):
                best = (speech, start, end)
    if best is None:
        # No 3 s window fits between long pauses: the longest stretch of speech with the audio
        # around it up to 3 s (spanning from the first speech to the last could exceed 10 s).
        speech_start, speech_end = max(regions, key=lambda region: region[1] - region[0])
        start = max(speech_start - 0.1, 0.0)
        end = min(max(speech_end + 0.1, start + SEGMENT_MIN_SECONDS), total, start + SEGMENT_MAX_SECONDS)
        return max(0.0, min(start, end - SEGMENT_MIN_SECONDS)), end  # at the end of the file, pad before
    return best[1], best[2]


def _write_segment(original_wav: Path, output: Path, start: float, end: float) -> None:
    import soundfile

    rate = _rate_of(original_wav)
    samples, _rate = soundfile.read(str(original_wav), dtype="float32", start=int(start * rate), stop=int(end * rate))
    soundfile.write(str(output), samples, rate, subtype="PCM_16", format="WAV")
