"""Build the CJK font subset shipped in ``qzfp/fonts/``.

qzfp ships a subset of Noto Sans CJK SC (SIL Open Font License 1.1) so that Chinese
renders in charts on a machine without any CJK system font.  This script documents, and
reproduces, how that file was made:

    python tools/subset_cjk_font.py SOURCE [--out qzfp/fonts/NotoSansCJKsc-qzfp-subset.ttf]

SOURCE is either ``NotoSansCJK-Regular.ttc`` (Debian package ``fonts-noto-cjk``,
``/usr/share/fonts/opentype/noto/``; the "Noto Sans CJK SC" face is picked from the
collection) or ``NotoSansCJKsc-Regular.otf`` (github.com/notofonts/noto-cjk releases).

Characters kept: printable ASCII and Latin-1, general punctuation, arrows and maths
operators used in labels, CJK symbols and punctuation, full-width forms, the 6 763
Chinese characters of GB 2312 (``--charset gbk`` keeps GBK's 21 003 instead, but the
file is then ~9 MB), and every other character found in the project's own data,
rulebook and label catalogue (so every packaged county, township and village name).  The family is renamed "Noto Sans CJK SC qzfp" so that
it never shadows a full installation of the font.

The outlines are converted from CFF (cubic) to TrueType (quadratic, ``glyf``, within one
unit of the 1000-unit em): Chromium prints a CFF font into a PDF as one Type 3 font per
page and style (Skia's PDF backend embeds only TrueType outlines as a subset CID font;
https://issues.skia.org/issues/40031251), so ``report.pdf`` would carry ~95 Type 3 fonts
instead of one subset of this font.  SOURCE may also be an earlier subset made by this
script (the subset keeps every character it has; the conversion is then the only change).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parents[1]
FAMILY = "Noto Sans CJK SC qzfp"
DEFAULT_OUT = ROOT / "qzfp" / "fonts" / "NotoSansCJKsc-qzfp-subset.ttf"
#: Largest distance between a converted quadratic outline and the cubic one [font units, of 1000].
MAX_ERROR = 1.0

RANGES = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 supplement
    (0x0100, 0x017F),  # Latin extended-A (pinyin tone marks ā á ǎ à ...)
    (0x01CD, 0x01DC),  # pinyin ǎ ǐ ǒ ǔ ǖ ǘ ǚ ǜ
    (0x2010, 0x205E),  # general punctuation (– — ‘ ’ “ ” … ‰)
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators (− ± × ÷ ≤ ≥)
    (0x2460, 0x24FF),  # enclosed alphanumerics ①
    (0x25A0, 0x25FF),  # geometric shapes ■ ▲ ●
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。《》「」〔〕)
    (0xFF00, 0xFFEF),  # half-width and full-width forms (，：；（）％)
]


def hanzi_of(codec: str) -> set[str]:
    """Every CJK unified ideograph that a Chinese code page (gb2312 or gbk) encodes."""
    chars = set()
    for lead in range(0x81, 0xFF):
        for trail in range(0x40, 0xFF):
            if trail == 0x7F:
                continue
            try:
                ch = bytes([lead, trail]).decode(codec)
            except UnicodeDecodeError:
                continue
            if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf":
                chars.add(ch)
    return chars


def project_chars() -> set[str]:
    """Characters used by the project's data, rulebook and label catalogue."""
    chars: set[str] = set()
    for pattern in ("qzfp/**/*.csv", "qzfp/**/*.yaml", "qzfp/**/*.py", "params/*.yaml"):
        for path in ROOT.glob(pattern):
            chars |= set(path.read_text(encoding="utf-8", errors="ignore"))
    return {c for c in chars if ord(c) > 0x7F}


def load_source(path: Path) -> TTFont:
    if path.suffix.lower() in (".ttc", ".otc"):
        collection = TTCollection(str(path))
        for font in collection.fonts:
            if font["name"].getDebugName(1) == "Noto Sans CJK SC":
                return font
        raise SystemExit(f"{path}: no 'Noto Sans CJK SC' face in this collection")
    return TTFont(str(path))


def to_truetype(font: TTFont) -> TTFont:
    """Replace the CFF outlines of ``font`` by TrueType ``glyf`` outlines (in place)."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    if "CFF " not in font:
        return font
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, MAX_ERROR, reverse_direction=True))  # CFF runs the other way
        glyf[name] = pen.glyph()
    font["glyf"], font["loca"] = glyf, newTable("loca")
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font.sfntVersion = "\x00\x01\x00\x00"
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 3.0  # no glyph names: smaller, and TrueType needs none
    return font


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--charset", choices=["gb2312", "gbk"], default="gb2312")
    args = parser.parse_args(argv)

    font = load_source(args.source)
    text = set()
    for lo, hi in RANGES:
        text |= {chr(c) for c in range(lo, hi + 1)}
    text |= hanzi_of(args.charset) | project_chars()

    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes={ord(c) for c in text})
    subsetter.subset(font)

    name = font["name"]
    for record in name.names:
        if record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID == 3:
            record.string = f"{FAMILY}:subset"
        elif record.nameID == 4:
            record.string = f"{FAMILY} Regular"
        elif record.nameID == 6:
            record.string = FAMILY.replace(" ", "") + "-Regular"
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [FAMILY.replace(" ", "") + "-Regular"]
        top = cff.topDictIndex[0]
        top.FamilyName = FAMILY
        top.FullName = f"{FAMILY} Regular"
    to_truetype(font)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(args.out))
    cmap = font.getBestCmap()
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.2f} MB, {len(cmap)} characters")


if __name__ == "__main__":
    main()
