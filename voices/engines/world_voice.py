"""Speech analysis and voice conversion with the WORLD vocoder (pyworld) and resemblyzer.

A speaker is summarised by log-F0 statistics, the statistics of its coded spectral envelope
(WORLD's mel-cepstrum-like coding) and a bank of its voiced envelope frames. Conversion maps a base
voice onto that: F0 by mean/std in the log domain, the envelope frequency-warped (vocal-tract
length), moved to the speaker's mean and spread per coefficient, then partly blended with the
nearest real frames of the speaker. The blend carries identity; the per-frame base envelope kept
beside it carries the phonemes (a full frame substitution loses the words, see NOTES). The lowest
coded coefficients (the broad envelope shape that places formants) take a smaller share of the
real frames than the finer detail: Whisper's WER measured that the formant shape is what a strong
blend destroys. Fricatives and other loud unvoiced frames move halfway to the speaker's own
unvoiced statistics (mapping them with the voiced ones left espeak's hiss).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyworld
import soundfile
import webrtcvad
from scipy.signal import resample_poly

RATE = 16000
FRAME_PERIOD_MS = 5.0
CODED_DIMS = 40
VAD_FRAME = 480  # 30 ms at 16 kHz, one of the lengths webrtcvad accepts
MAX_BANK_FRAMES = 6000
WARPS = np.linspace(0.9, 1.12, 12)  # wider warps measured worse (they bend vowels)
LOW_COEFFICIENTS, LOW_BLEND = 8, 0.3  # coded coefficients 1-7 (formant shape) blend at most this much
LOW_WEIGHT = 3.0  # how much more the formant shape counts than the detail when looking for real frames
UNVOICED_SHARE = 0.5


def load_mono(path, rate: int = RATE) -> np.ndarray:
    """Mono samples at ``rate`` of a sound file (a path or a file object)."""
    samples, source_rate = soundfile.read(path if hasattr(path, "read") else str(path), dtype="float64",
                                          always_2d=True)
    samples = samples.mean(axis=1)
    if source_rate != rate:
        divisor = np.gcd(source_rate, rate)
        samples = resample_poly(samples, rate // divisor, source_rate // divisor)
    return np.ascontiguousarray(samples)


def write_wav(path, samples: np.ndarray, rate: int = RATE, peak: float = 0.9) -> None:
    """16-bit PCM, normalised to ``peak`` so quiet and loud conversions come out alike."""
    top = float(np.max(np.abs(samples))) if samples.size else 0.0
    if top > 0:
        samples = samples * (peak / top)
    soundfile.write(str(path), samples.astype(np.float32), rate, subtype="PCM_16", format="WAV")


def speech_flags(samples: np.ndarray) -> np.ndarray:
    """One flag per 30 ms frame: webrtcvad says speech and the frame is not near-silent."""
    count = len(samples) // VAD_FRAME
    if count == 0:
        return np.zeros(0, dtype=bool)
    frames = samples[: count * VAD_FRAME].reshape(count, VAD_FRAME)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    # A frame 45 dB below the loudest one, or below -60 dBFS, is silence whatever the VAD says.
    loud = (rms > 0.001) & (rms > rms.max() * 10 ** (-45 / 20))
    pcm = (np.clip(samples[: count * VAD_FRAME], -1, 1) * 32767).astype(np.int16).tobytes()
    vad = webrtcvad.Vad(2)
    voiced = np.array([vad.is_speech(pcm[i * VAD_FRAME * 2:(i + 1) * VAD_FRAME * 2], RATE) for i in range(count)])
    return voiced & loud


def speech_regions(flags: np.ndarray, bridge_s: float = 0.3) -> list[tuple[float, float]]:
    """(start, end) seconds of speech, bridging pauses shorter than ``bridge_s``."""
    frame_s = VAD_FRAME / RATE
    regions: list[list[float]] = []
    for index in np.flatnonzero(flags).tolist():
        start, end = index * frame_s, (index + 1) * frame_s
        if regions and start - regions[-1][1] <= bridge_s:
            regions[-1][1] = end
        else:
            regions.append([start, end])
    return [(start, end) for start, end in regions]


@dataclass
class Analysis:
    f0: np.ndarray
    sp: np.ndarray
    ap: np.ndarray

    @property
    def voiced(self) -> np.ndarray:
        return self.f0 > 0


def analyse(samples: np.ndarray, robust: bool = False) -> Analysis:
    """WORLD analysis; ``robust`` uses Harvest for F0 (slower, fewer octave errors on real recordings)."""
    if robust:
        f0, times = pyworld.harvest(samples, RATE, f0_floor=60.0, f0_ceil=500.0, frame_period=FRAME_PERIOD_MS)
    else:
        f0, times = pyworld.dio(samples, RATE, f0_floor=60.0, f0_ceil=600.0, frame_period=FRAME_PERIOD_MS)
        f0 = pyworld.stonemask(samples, f0, times, RATE)
    sp = pyworld.cheaptrick(samples, f0, times, RATE)
    ap = pyworld.d4c(samples, f0, times, RATE)
    return Analysis(f0, sp, ap)


def code(sp: np.ndarray) -> np.ndarray:
    return pyworld.code_spectral_envelope(sp, RATE, CODED_DIMS)


def decode(coded: np.ndarray) -> np.ndarray:
    fft_size = pyworld.get_cheaptrick_fft_size(RATE)
    return pyworld.decode_spectral_envelope(np.ascontiguousarray(coded), RATE, fft_size)


def warp(sp: np.ndarray, alpha: float) -> np.ndarray:
    """Stretch the envelope along frequency by ``alpha`` (> 1 moves formants up, a shorter tract)."""
    if abs(alpha - 1.0) < 1e-3:
        return sp
    bins = np.arange(sp.shape[1], dtype=np.float64)
    source = np.clip(bins / alpha, 0, sp.shape[1] - 1)
    log_sp = np.log(sp)
    warped = np.stack([np.interp(source, bins, row) for row in log_sp])
    return np.exp(warped)


def log_f0_stats(analysis: Analysis) -> tuple[float, float]:
    log_f0 = np.log(analysis.f0[analysis.voiced])
    if log_f0.size < 10:
        return float(np.log(150.0)), 0.15
    return float(log_f0.mean()), float(max(log_f0.std(), 0.03))


def best_warp(base: Analysis, target_mean_log_sp: np.ndarray) -> float:
    """The frequency warp that best lines the base's mean envelope up with the speaker's (to 5 kHz)."""
    limit = int(5000 / (RATE / 2) * (base.sp.shape[1] - 1))
    voiced_sp = base.sp[base.voiced] if base.voiced.any() else base.sp
    errors = []
    for alpha in WARPS:
        mean = np.log(warp(voiced_sp, alpha)).mean(axis=0)[:limit]
        target = target_mean_log_sp[:limit]
        errors.append(np.mean(((mean - mean.mean()) - (target - target.mean())) ** 2))
    return float(WARPS[int(np.argmin(errors))])


def loud_unvoiced(analysis: Analysis, coded: np.ndarray) -> np.ndarray:
    """Unvoiced frames louder than the median unvoiced frame: fricatives and bursts, not pauses."""
    unvoiced = ~analysis.voiced
    if unvoiced.sum() < 2:
        return np.zeros_like(unvoiced)
    return unvoiced & (coded[:, 0] > np.median(coded[unvoiced, 0]))


@dataclass
class SpeakerStats:
    """What conversion needs of one voice (the target speaker or a calibrated base voice).

    The unvoiced statistics are None in profiles made before they existed; conversion then maps
    unvoiced frames with the voiced ones only.
    """

    log_f0_mean: float
    log_f0_std: float
    coded_mean: np.ndarray
    coded_std: np.ndarray
    unvoiced_mean: np.ndarray | None = None
    unvoiced_std: np.ndarray | None = None

    @classmethod
    def of(cls, analysis: Analysis, coded: np.ndarray) -> SpeakerStats:
        mean, std = log_f0_stats(analysis)
        frames = coded[analysis.voiced] if analysis.voiced.sum() > 20 else coded
        unvoiced = coded[loud_unvoiced(analysis, coded)]
        unvoiced_mean = unvoiced_std = None
        if len(unvoiced) > 20:
            unvoiced_mean, unvoiced_std = unvoiced.mean(axis=0), np.maximum(unvoiced.std(axis=0), 1e-3)
        return cls(
            mean, std, frames.mean(axis=0), np.maximum(frames.std(axis=0), 1e-3), unvoiced_mean, unvoiced_std
        )

    def as_dict(self) -> dict:
        data = {
            "log_f0_mean": self.log_f0_mean, "log_f0_std": self.log_f0_std,
            "coded_mean": self.coded_mean.tolist(), "coded_std": self.coded_std.tolist(),
        }
        if self.unvoiced_mean is not None:
            data["unvoiced_mean"], data["unvoiced_std"] = self.unvoiced_mean.tolist(), self.unvoiced_std.tolist()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> SpeakerStats:
        unvoiced = [np.array(data[key]) if key in data else None for key in ("unvoiced_mean", "unvoiced_std")]
        return cls(
            data["log_f0_mean"], data["log_f0_std"], np.array(data["coded_mean"]), np.array(data["coded_std"]), *unvoiced
        )


def frame_bank(analysis: Analysis, coded: np.ndarray) -> np.ndarray:
    frames = coded[analysis.voiced]
    if len(frames) > MAX_BANK_FRAMES:
        frames = frames[np.linspace(0, len(frames) - 1, MAX_BANK_FRAMES).astype(int)]
    return frames.astype(np.float32)


@dataclass
class Conversion:
    target: SpeakerStats
    base: SpeakerStats  # the base voice's statistics measured after warping
    alpha: float
    bank: np.ndarray
    blend: float = 0.85
    neighbours: int = 2

    def apply(self, samples: np.ndarray) -> np.ndarray:
        analysis = analyse(samples)
        voiced = analysis.voiced
        f0 = analysis.f0.copy()
        f0[voiced] = np.exp(
            (np.log(f0[voiced]) - self.base.log_f0_mean) / self.base.log_f0_std * self.target.log_f0_std
            + self.target.log_f0_mean
        )
        coded = code(warp(analysis.sp, self.alpha))
        ratio = np.clip(self.target.coded_std / self.base.coded_std, 0.5, 2.0)
        mapped = self.target.coded_mean + (coded - self.base.coded_mean) * ratio
        if self.target.unvoiced_mean is not None and self.base.unvoiced_mean is not None:
            unvoiced = loud_unvoiced(analysis, coded)
            ratio = np.clip(self.target.unvoiced_std / self.base.unvoiced_std, 0.5, 2.0)
            own = self.target.unvoiced_mean + (coded[unvoiced] - self.base.unvoiced_mean) * ratio
            own[:, 0] = mapped[unvoiced, 0]  # loudness stays as the voiced mapping set it
            mapped[unvoiced] = (1 - UNVOICED_SHARE) * mapped[unvoiced] + UNVOICED_SHARE * own
        if self.blend > 0 and voiced.any() and len(self.bank):
            mapped[voiced] = self._blend(mapped[voiced])
        sp = decode(mapped)
        return pyworld.synthesize(f0, sp, analysis.ap, RATE, FRAME_PERIOD_MS)

    def _blend(self, frames: np.ndarray) -> np.ndarray:
        """Pull each voiced frame toward the mean of its nearest real frames of the speaker.

        Nearness is mostly the formant shape: a real frame of the same vowel brings fine detail
        that fits it (weighting it 3× measured +0.01 to +0.06 similarity on every shared speaker).
        """
        scale = self.target.coded_std[1:].copy()
        scale[: LOW_COEFFICIENTS - 1] /= LOW_WEIGHT
        bank = self.bank[:, 1:] / scale
        query = frames[:, 1:] / scale
        nearest = np.empty_like(frames)
        count = min(self.neighbours, len(bank))  # a steady voice (or a tone) may leave very few frames
        for start in range(0, len(query), 512):
            block = query[start:start + 512]
            distances = (block**2).sum(1)[:, None] - 2 * block @ bank.T + (bank**2).sum(1)[None, :]
            index = np.argpartition(distances, count - 1, axis=1)[:, :count]
            nearest[start:start + 512] = self.bank[index].mean(axis=1)
        share = np.full(frames.shape[1], self.blend)
        share[:LOW_COEFFICIENTS] = min(self.blend, LOW_BLEND)
        share[0] = 0.0  # keep the base's loudness contour
        blended = (1 - share) * frames + share * nearest
        return blended


@functools.lru_cache(maxsize=1)
def voice_encoder():
    from resemblyzer import VoiceEncoder

    return VoiceEncoder("cpu", verbose=False)


def embedding(samples: np.ndarray) -> np.ndarray:
    """resemblyzer's 256-dim speaker embedding (unit length) of 16 kHz speech, at its encoder's level.

    The encoder learned from utterances at -30 dBFS, and ``preprocess_wav`` only raises quieter
    ones: the same voice louder got another embedding (0.02 less cosine at -16 dBFS, the level
    of our peak-normalised output, than at -30). Every recording is brought to -30 dBFS first,
    down as well as up, so a voice's embedding does not depend on how loud it was recorded.
    """
    from resemblyzer import preprocess_wav
    from resemblyzer.audio import normalize_volume
    from resemblyzer.hparams import audio_norm_target_dBFS

    samples = samples.astype(np.float32)
    if np.any(samples):
        samples = normalize_volume(samples, audio_norm_target_dBFS)
    wav = preprocess_wav(samples, source_sr=RATE)
    if len(wav) < RATE // 2:
        wav = samples
    return voice_encoder().embed_utterance(wav)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
