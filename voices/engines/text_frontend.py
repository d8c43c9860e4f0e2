"""Text to what espeak-ng can say: sentence chunks, language runs, Mandarin as tone-numbered pinyin.

espeak-ng's own Mandarin voice (``cmn``) reads tone digits as English numbers in 1.51, so Chinese
is turned into pinyin with ``pypinyin`` and read by the ``cmn-latn-pinyin`` voice instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Sentence ends in both scripts; a chunk never ends inside a sentence unless the sentence is huge.
# Latin marks end a sentence only before a space ("3.14", "example.com" and "e.g." stay whole).
SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；…\n])\s*")
# Markdown marks (an LLM's **bold**, # headings, `code`) and espeak-ng's [[phoneme]] brackets.
MARKUP = re.compile(r"[*#_~`]|\[\[|\]\]")
TOKEN = re.compile(rf"(?P<han>[{HAN}]+)|(?P<num>\d+(?:[.,]\d+)*%?)|(?P<word>[A-Za-z][A-Za-z'\-]*)|(?P<other>.)", re.S)
CHINESE_PUNCTUATION = str.maketrans({
    "，": ",", "。": ".", "！": "!", "？": "?", "；": ";", "：": ":", "、": ",", "（": "(", "）": ")",
    "“": '"', "”": '"', "‘": "'", "’": "'", "《": '"', "》": '"', "—": ",", "…": ".", "～": ",",
})
DIGITS = "零一二三四五六七八九"


@dataclass
class Run:
    language: str  # "en" or "zh"
    text: str  # what espeak receives: English words, or pinyin with tone numbers


def chunks(text: str, limit: int = 220) -> list[str]:
    """Split at sentence ends into chunks of at most ``limit`` characters (long sentences at commas)."""
    sentences = [s for s in SENTENCE_END.split(text.strip()) if s.strip()]
    pieces: list[str] = []
    for sentence in sentences:
        while len(sentence) > limit:
            cut = max(sentence.rfind(mark, 0, limit) for mark in ",，、 ")
            cut = cut + 1 if cut > limit // 3 else limit
            pieces.append(sentence[:cut])
            sentence = sentence[cut:]
        pieces.append(sentence)
    grouped: list[str] = []
    for piece in pieces:
        if grouped and len(grouped[-1]) + len(piece) < limit:
            grouped[-1] += " " + piece
        else:
            grouped.append(piece)
    return [chunk.strip() for chunk in grouped if chunk.strip()]


def language_runs(text: str) -> list[Run]:
    """Consecutive stretches of one language; numbers and punctuation join their neighbours."""
    # NFKC: fullwidth digits and letters (１２３, ＡＢＣ) as espeak reads them, markup as spaces.
    text = MARKUP.sub(" ", unicodedata.normalize("NFKC", text))
    tokens = [(match.lastgroup, match.group()) for match in TOKEN.finditer(text)]
    languages = [{"han": "zh", "word": "en"}.get(kind) for kind, _ in tokens]
    # Numbers and punctuation take the language of the nearest word before them (else after).
    last = next((lang for lang in languages if lang), "en")
    for index, lang in enumerate(languages):
        if lang is None:
            languages[index] = last
        else:
            last = lang
    runs: list[Run] = []
    for (_kind, value), lang in zip(tokens, languages, strict=True):
        if runs and runs[-1].language == lang:
            runs[-1].text += value
        else:
            runs.append(Run(lang, value))
    result = []
    for run in runs:
        spoken = to_pinyin(run.text) if run.language == "zh" else run.text.translate(CHINESE_PUNCTUATION)
        if re.search(r"\w", spoken):
            result.append(Run(run.language, spoken.strip()))
    return result


def to_pinyin(text: str) -> str:
    """Chinese (with digits) as tone-numbered pinyin syllables separated by spaces."""
    text = re.sub(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|\d+(?:\.\d+)?%?", lambda m: chinese_number(m.group()), text)
    syllables = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda s: [s])
    spoken = " ".join(s.translate(CHINESE_PUNCTUATION) for s in syllables)
    return re.sub(r"\s+([,.!?;:])", r"\1", spoken)


def chinese_number(token: str) -> str:
    """Read digits the Chinese way: 2024 → 二千零二十四, 3.5 → 三点五, 50% → 百分之五十, 1,000 → 一千."""
    if token.endswith("%"):
        return "百分之" + chinese_number(token[:-1])
    whole, _, fraction = token.replace(",", "").partition(".")
    spoken = _integer(int(whole)) if len(whole) <= 12 else "".join(DIGITS[int(d)] for d in whole)
    if fraction:
        spoken += "点" + "".join(DIGITS[int(d)] for d in fraction)
    return spoken


def _integer(value: int) -> str:
    if value == 0:
        return "零"
    parts = []
    for unit_value, unit in ((10**8, "亿"), (10**4, "万"), (1, "")):
        group, value = divmod(value, unit_value)
        if group:
            if parts and group < 1000:
                parts.append("零")
            parts.append(_below_10000(group) + unit)
    spoken = "".join(parts).rstrip("零")
    return spoken[1:] if spoken.startswith("一十") else spoken


def _below_10000(value: int) -> str:
    spoken = ""
    for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, value = divmod(value, unit_value)
        if digit:
            spoken += DIGITS[digit] + unit
        elif spoken and value and not spoken.endswith("零"):
            spoken += "零"
    return spoken
