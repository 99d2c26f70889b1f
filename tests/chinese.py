"""What may stay in Latin letters in a Chinese document: shared by the page, workbook and
proposal tests (``english_words``)."""

from __future__ import annotations

import re

#: English that may stay in a Chinese report: the method's name, the program's name, codes
#: (rule paths, scenario and file names, keys), sizes and hashes.
ALLOWED_WORDS = {"WISN", "qzfp", "PDF", "Excel", "CSV", "SHA", "UTC", "kB", "MB", "B", "csv", "xlsx", "json", "html", "png",
                 "pdf", "data", "run", "budget", "assets"}
_CODE = re.compile(r"[A-Za-z0-9]+(?:[._/\-][A-Za-z0-9]+)+|[A-Za-z]+_[A-Za-z0-9_]+")


def english_words(text: str, codes: set[str]) -> list[str]:
    """Words of Latin letters in ``text`` that are neither allowed nor codes."""
    text = text.replace("SHA-256", "SHA")
    text = _CODE.sub(lambda m: " " if m.group(0) in codes or "_" in m.group(0) or "." in m.group(0)
                     else m.group(0), text)
    return [w for w in re.findall(r"[A-Za-z][A-Za-z'\-]*", text) if w not in ALLOWED_WORDS and w not in codes]
