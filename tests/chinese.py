"""What may stay in Latin letters in a Chinese document: shared by the page, workbook,
rulebook and proposal tests (``english_words``)."""

from __future__ import annotations

import re

#: English that may stay in a Chinese report: the method's name, the program's name, codes
#: (rule paths, scenario and file names, keys), sizes and hashes.  Besides these words:
#: ``WISN CAS`` and ``WISN IAS`` (the method's category and individual allowance standards,
#: named as in its manual), ``GB/T`` (the code of a recommended national standard, GB/T
#: 8170-2008), and the symbols of formulas and models: a single letter (the ``r`` of
#: (1 + r)^n, the items A–F of a WISN calculation) or letters joined to a number (``a1``,
#: ``alpha1``, ``e0`` of the demographic models).
ALLOWED_WORDS = {"WISN", "qzfp", "PDF", "Excel", "CSV", "SHA", "UTC", "kB", "MB", "B", "csv", "xlsx", "json", "html", "png",
                 "pdf", "data", "run", "budget", "assets"}
_CODE = re.compile(r"[A-Za-z0-9]+(?:[._/\-][A-Za-z0-9]+)+|[A-Za-z]+_[A-Za-z0-9_]+")
_ALLOWED_CODES = re.compile(r"\bWISN (?:CAS|IAS)\b|\bGB/T\b|SHA-256|\b[A-Za-z]+\d+\b")


def english_words(text: str, codes: set[str]) -> list[str]:
    """Words of Latin letters in ``text`` that are neither allowed nor codes nor symbols."""
    text = _ALLOWED_CODES.sub(" ", text)
    text = _CODE.sub(lambda m: " " if m.group(0) in codes or "_" in m.group(0) or "." in m.group(0)
                     else m.group(0), text)
    return [w for w in re.findall(r"[A-Za-z][A-Za-z'\-]*", text)
            if w not in ALLOWED_WORDS and w not in codes and len(w) > 1]


def nested_quotes(text: str) -> list[str]:
    """Chinese double quotes opened inside double quotes (``““少生快富”项目”``): a quote within
    a quote takes single quotes (“‘少生快富’项目”).  The offending passages, at most 30
    characters each."""
    found, depth = [], 0
    for i, ch in enumerate(text):
        if ch == "“":
            depth += 1
            if depth > 1:
                found.append(text[max(0, i - 10):i + 20])
        elif ch == "”":
            depth = max(0, depth - 1)
        elif ch == "\n":
            depth = 0
    return found
