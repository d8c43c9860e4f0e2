"""Bench the builtin voice engine on the shared real recordings.

Prints, for each reference speaker: the resemblyzer similarity of its converted speech to every
speaker (the row's diagonal should win), of the unconverted espeak voice, the pocketsphinx word
error rate of converted and unconverted English, and the real-time factor.

    python bench/bench_voice.py [--blend 0.5]
"""

from __future__ import annotations

import argparse
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
SENTENCE = ("The weather is lovely today, so we will walk to the park after lunch "
            "and meet our friends near the old bridge.")


def quiet(progress_percent, message=""):
    pass


def recognise(samples: np.ndarray) -> str:
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=RATE, loglevel="FATAL")
    pcm = (np.clip(samples / (np.abs(samples).max() + 1e-9) * 0.9, -1, 1) * 32767).astype(np.int16).tobytes()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    return decoder.hyp().hypstr if decoder.hyp() else ""


def wer(reference: str, hypothesis: str) -> float:
    ref = re.findall(r"[a-z']+", reference.lower())
    hyp = re.findall(r"[a-z']+", hypothesis.lower())
    d = np.arange(len(hyp) + 1)
    for i, word in enumerate(ref, 1):
        prev, d[0] = d.copy(), i
        for j, other in enumerate(hyp, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (word != other))
    return d[-1] / max(len(ref), 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blend", type=float, default=BuiltinVoice.blend)
    parser.add_argument("--neighbours", type=int, default=BuiltinVoice.neighbours)
    args = parser.parse_args()
    engine = BuiltinVoice()
    engine.blend, engine.neighbours = args.blend, args.neighbours
    work = Path(tempfile.mkdtemp(prefix="bench-voice-"))
    embeddings, outputs, rows = {}, {}, []
    for name, file in SPEAKERS.items():
        folder = work / name
        folder.mkdir()
        to_wav(SHARED_MEDIA / file, folder / "reference.wav", rate=RATE, channels=1)
        to_wav(SHARED_MEDIA / file, folder / "reference_original.wav", rate=44100, channels=1)
        started = time.perf_counter()
        try:
            profile = engine.extract(folder / "reference.wav", folder / "reference_original.wav", folder, quiet)
        except VoiceError as exc:
            print(f"{name}: refused ({exc})")
            continue
        extract_s = time.perf_counter() - started
        embeddings[name] = np.array(profile["embedding"])
        started = time.perf_counter()
        engine.synthesize(SENTENCE, folder, profile, folder / "out.wav", quiet)
        synth_s = time.perf_counter() - started
        outputs[name] = load_mono(folder / "out.wav")
        base = espeak.say(SENTENCE, "en", profile["base_voices"]["en"]["variant"])
        rows.append((name, profile, extract_s, synth_s, base))
    names = list(embeddings)
    print(f"blend={args.blend} neighbours={args.neighbours}  similarity of converted speech (rows) to each reference speaker (columns)")
    print(f"{'':>11}" + "".join(f"{n:>11}" for n in names) + f"{'raw espeak':>12}{'WER conv':>10}{'WER raw':>9}{'RTF':>6}")
    identified = 0
    for name, profile, extract_s, synth_s, base in rows:
        out_embedding = embedding(outputs[name])
        sims = [cosine(out_embedding, embeddings[other]) for other in names]
        identified += names[int(np.argmax(sims))] == name
        raw = cosine(embedding(base), embeddings[name])
        rtf = synth_s / (len(outputs[name]) / RATE)
        print(f"{name:>11}" + "".join(f"{s:11.3f}" for s in sims)
              + f"{raw:12.3f}{wer(SENTENCE, recognise(outputs[name])):10.2f}{wer(SENTENCE, recognise(base)):9.2f}{rtf:6.2f}"
              + f"   variant={profile['base_voices']['en']['variant'] or 'default'} alpha={profile['base_voices']['en']['alpha']:.2f}"
              + f" f0={profile['f0']['mean_hz']}Hz extract={extract_s:.1f}s")
    print(f"identified {identified}/{len(names)} (converted speech closest to its own speaker)")


if __name__ == "__main__":
    main()
