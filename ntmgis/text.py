"""Vietnamese text: NFC, diacritic folding, legacy encodings, header aliases.

Cadastral files and survey spreadsheets come from many hands and decades. The same hamlet
is written "Hoà" and "Hòa", with or without diacritics, and old files carry text in the
TCVN3 (ABC, ``.VnTime`` fonts) or VNI Windows legacy encodings instead of Unicode, or
UTF-8 bytes read as Latin-1. This module repairs and compares such text:

* :func:`nfc`, :func:`clean_text`, :func:`fold` and :func:`header_key` normalise text for
  display and for comparison;
* :func:`normalise_tone_placement` turns old-style tone placement ("hoà", "thuỷ") into
  the modern one ("hòa", "thủy");
* :func:`tcvn3_to_unicode`, :func:`vni_to_unicode` (and their inverses, used to make test
  data) convert legacy text; :func:`repair_text` and :func:`repair_column` detect which
  encoding a value is in by checking which reading gives valid Vietnamese syllables;
* :func:`decode_bytes` reads the bytes of a text file (UTF-8 with or without BOM, cp1258,
  TCVN3, VNI);
* :func:`match_columns` finds columns by known aliases, case-, space- and
  diacritic-insensitively.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping

from .errors import ConfigError, SchemaError
from .i18n import message as _say
from .i18n import register_all

__all__ = [
    "nfc",
    "clean_text",
    "fold",
    "header_key",
    "normalise_tone_placement",
    "tcvn3_to_unicode",
    "unicode_to_tcvn3",
    "vni_to_unicode",
    "unicode_to_vni",
    "detect_encoding",
    "repair_text",
    "repair_column",
    "decode_bytes",
    "encode_cp1258",
    "match_columns",
    "is_vietnamese_syllable",
    "parse_vn_number",
]

logger = logging.getLogger(__name__)

# Text repairs said to people (ntmgis.i18n catalogue): key -> (vi, en).
_MESSAGES = {
    "text.where_column": ("cột '{column}'", "column '{column}'"),
    "text.where_column_of": ("cột '{column}' của '{source}'", "column '{column}' of '{source}'"),
    "warning.text.reread": (
        " {count} giá trị trong đó, riêng từng giá trị thì trông như bảng mã khác, được đọc "
        "theo bảng mã của cả cột, ví dụ dòng {rows}.",
        " {count} of them, which alone looked like another encoding, were read like the rest "
        "of the column, e.g. row(s) {rows}.",
    ),
    "warning.text.mixed": (
        "{where} trộn nhiều bảng mã chữ ({parts}). Mỗi giá trị đã được chuyển theo cách đọc "
        "của riêng nó: hãy kiểm tra các dòng này, và lần sau lưu tệp bằng Unicode (UTF-8).",
        "{where} mixes text encodings ({parts}). Each value was converted by its own "
        "reading: check these rows, and save the file as Unicode (UTF-8) next time.",
    ),
    "warning.text.mixed_part": (
        "{encoding}: {count} giá trị, ví dụ dòng {rows}",
        "{encoding}: {count} value(s), e.g. row(s) {rows}",
    ),
    "warning.text.converted": (
        "{where}: {count} giá trị viết bằng {encoding} đã được chuyển sang Unicode.",
        "{where}: {count} value(s) in {encoding} converted to Unicode.",
    ),
    "text.encoding.tcvn3": (
        "bảng mã cũ TCVN3 (ABC) [tcvn3]",
        "the legacy TCVN3 (ABC) encoding [tcvn3]",
    ),
    "text.encoding.vni": ("bảng mã cũ VNI [vni]", "the legacy VNI encoding [vni]"),
    "text.encoding.utf8-as-latin1": (
        "UTF-8 bị đọc như Latin-1, ví dụ Shapefile không có tệp .cpg [utf8-as-latin1]",
        "UTF-8 read as Latin-1, e.g. a Shapefile without .cpg [utf8-as-latin1]",
    ),
    "text.encoding.cp1258-as-latin1": (
        "Windows-1258 bị đọc như Latin-1 [cp1258-as-latin1]",
        "Windows-1258 read as Latin-1 [cp1258-as-latin1]",
    ),
    "error.text.unknown_encoding": (
        "Bảng mã chữ '{encoding}' không có: chọn một trong {choices}.",
        "Unknown text encoding '{encoding}': use one of {choices}.",
    ),
    "error.text.column_missing": (
        "Không có cột '{column}' trong bảng.",
        "There is no column '{column}' in the table.",
    ),
}
register_all(_MESSAGES)


# --------------------------------------------------------------------------------------
# Normalisation and folding
# --------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_TONES = {
    "\u0300": "grave",
    "\u0301": "acute",
    "\u0309": "hook",
    "\u0303": "tilde",
    "\u0323": "dot",
}
_TONE_BY_NAME = {name: mark for mark, name in _TONES.items()}
_MODIFIERS = {"\u0302": "circumflex", "\u0306": "breve", "\u031b": "horn"}


def nfc(value):
    """Return ``value`` in Unicode NFC (composed) form; non-strings pass through.

    Parameters
    ----------
    value : object
        A string (other values are returned unchanged).

    Returns
    -------
    object
        The NFC string, or ``value`` itself when it is not a string.
    """
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    return value


def _split_syllable_tone(word: str) -> tuple[str, str | None, int]:
    """Return (word without tone marks, NFC), tone name, and the index of the toned letter."""
    tone = None
    where = -1
    letters = []
    for i, char in enumerate(unicodedata.normalize("NFC", word)):
        parts = unicodedata.normalize("NFD", char)
        kept = []
        for mark in parts:
            if mark in _TONES:
                tone = _TONES[mark]
                where = i
            else:
                kept.append(mark)
        letters.append(unicodedata.normalize("NFC", "".join(kept)))
    return "".join(letters), tone, where


def _put_tone(letter: str, tone: str | None) -> str:
    if tone is None:
        return letter
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", letter) + _TONE_BY_NAME[tone])


_OLD_STYLE = re.compile(r"^(?P<head>.*?)(?P<v1>[oOuU])(?P<v2>[aAeEyY])$")


# a/e/y with a tone mark and nothing else: the only endings the two styles disagree on
_TONED_AEY = frozenset(
    unicodedata.normalize("NFC", base + tone) for base in "aeyAEY" for tone in _TONES
)


def _modern_tone_word(word: str) -> str:
    if len(word) < 2 or word[-1] not in _TONED_AEY or word[-2] not in "oOuU":
        return word  # fast path: nothing to move
    base, tone, where = _split_syllable_tone(word)
    if tone is None:
        return word
    match = _OLD_STYLE.match(base)
    if not match or where != len(base) - 1:
        return word
    head = match.group("head")
    # "qu" + a/e/y: u belongs to the initial, the tone stays on the last vowel ("quý")
    if match.group("v1") in "uU" and head[-1:] in ("q", "Q"):
        return word
    # only "oa", "oe", "uy" (the rhymes with a medial glide); not e.g. "ua" ("mùa")
    pair = (match.group("v1") + match.group("v2")).lower()
    if pair not in ("oa", "oe", "uy"):
        return word
    v1 = _put_tone(match.group("v1"), tone)
    return head + v1 + match.group("v2")


def normalise_tone_placement(value):
    """Move old-style tone marks to the modern place: "hoà" -> "hòa", "thuỷ" -> "thủy".

    Only open syllables with the medial glides "oa", "oe" and "uy" change (the cases in
    which the two styles differ); "hoàng", "quý" and "mùa" are left as they are.

    Parameters
    ----------
    value : object
        A string (other values are returned unchanged).

    Returns
    -------
    object
        The NFC string with tone marks in the modern place.

    Examples
    --------
    >>> normalise_tone_placement("Thôn Đông Hoà, xã Hoá Thuỷ")
    'Thôn Đông Hòa, xã Hóa Thủy'
    """
    if not isinstance(value, str):
        return value
    value = unicodedata.normalize("NFC", value)
    return re.sub(r"[^\W\d_]+", lambda m: _modern_tone_word(m.group(0)), value)


def clean_text(value):
    """NFC, trimmed, single spaces and modern tone placement; empty strings become None.

    Parameters
    ----------
    value : object
        A string (other values are returned unchanged).

    Returns
    -------
    object
        The cleaned string, ``None`` for a blank one, or ``value`` when not a string.
    """
    if not isinstance(value, str):
        return value
    value = _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()
    if not value:
        return None
    return normalise_tone_placement(value)


def fold(value) -> str:
    """Fold text for comparison: no diacritics, "đ" -> "d", lower case, single spaces.

    Parameters
    ----------
    value : object
        Any value; ``None`` and NaN fold to ``""``, other non-strings to their ``str``.

    Returns
    -------
    str
        The folded text.

    Examples
    --------
    >>> fold("  Vườn   HOANG hoá ")
    'vuon hoang hoa'
    >>> fold("Đông Hòa") == fold("Dong Hoà")
    True
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = unicodedata.normalize("NFD", str(value))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("đ", "d").replace("Đ", "D").replace("ð", "d").replace("Ð", "D")
    return _SPACES.sub(" ", text.casefold()).strip()


def header_key(value) -> str:
    """The key two spellings of one column name share: folded, letters and digits only.

    Parameters
    ----------
    value : object
        A column name.

    Returns
    -------
    str
        The key ("Số tờ", "so_to", "SO TO" all give ``"soto"``; "m²" gives ``"m2"``).
    """
    text = unicodedata.normalize("NFKC", fold(value))
    return re.sub(r"[^0-9a-z]", "", fold(text))


# --------------------------------------------------------------------------------------
# Vietnamese syllables (used to tell which reading of a legacy string is right)
# --------------------------------------------------------------------------------------

_INITIALS = "ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x".split("|")
_NUCLEI = set(
    (
        "a ă â e ê i o ô ơ u ư y ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi oo ua uâ "
        "uê ui uô uơ uy ưa ưi ươ ưu ya yê oai oay oao oeo uây uôi uya uyê uyu ươi ươu iêu "
        "yêu uê uyê"
    ).split()
)
# clusters ending in a glide take no final consonant ("au" yes, "aunh" no)
_OPEN_ONLY = {n for n in _NUCLEI if len(n) > 1 and n[-1] in "iouy" and n not in ("uy", "oo")}
_FINALS = "ch|ng|nh|c|m|n|p|t".split("|")
_SYLLABLE = re.compile(
    "^(?:{})?(?P<v>{})(?:{})?$".format(
        "|".join(_INITIALS),
        "|".join(sorted(_NUCLEI, key=len, reverse=True)),
        "|".join(_FINALS),
    )
)


def is_vietnamese_syllable(word: str) -> bool:
    """True when ``word`` is spelt like one Vietnamese syllable (one tone mark at most).

    Parameters
    ----------
    word : str
        One word, any case.

    Returns
    -------
    bool
        Whether the letters, the vowel cluster, the initial and final consonants and the
        number of tone marks fit the Vietnamese spelling rules; mixed case inside the word
        ("hoaÌ") does not fit.
    """
    if not word:
        return False
    tones = 0
    letters = []
    for char in unicodedata.normalize("NFD", word.lower()):
        if char in _TONES:
            tones += 1
        else:
            letters.append(char)
    if tones > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(letters))
    if base in ("gi", "gin", "gim", "git", "gip", "gich", "ginh"):
        return True
    if base.startswith("qu") and base[2:3] in ("u", "ư"):
        return False
    match = _SYLLABLE.match(base)
    if match is None:
        return False
    closed = match.end("v") < len(base)
    if closed and match.group("v") in _OPEN_ONLY:
        return False
    if tones == 0:
        return True
    # the tone mark must sit on the vowel that carries it (either style for oa/oe/uy)
    nucleus, start = match.group("v"), match.start("v")
    _, _, where = _split_syllable_tone(word.lower())
    return where - start in _tone_positions(nucleus, closed=closed)


def _tone_positions(nucleus: str, *, closed: bool) -> tuple[int, ...]:
    """Where a tone mark may sit in a vowel cluster (0 = first vowel)."""
    if len(nucleus) == 1:
        return (0,)
    if nucleus in ("ươ", "ươi", "ươu"):
        return (1,)
    marked = [i for i, c in enumerate(nucleus) if c in "âăêôơư"]
    if marked:
        return (marked[-1],)
    if closed:
        return (len(nucleus) - 1,)
    if nucleus in ("oa", "oe", "uy"):
        return (0, 1)
    if len(nucleus) == 3:
        return (1,)
    return (0,)


_WORD = re.compile(r"[^\W\d_]+")


def _score(text: str) -> int:
    """Valid Vietnamese syllables minus twice the invalid ones, among non-ASCII words."""
    score = 0
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        score += 2 if is_vietnamese_syllable(word) else -4
        # an upper-case letter after a lower-case one: "HoaÌ" (cp1258 read as Latin-1)
        score -= sum(1 for a, b in zip(word, word[1:]) if a.islower() and b.isupper())
    # symbols of the Latin-1 supplement: rare in real text, frequent in misread text
    score -= sum(1 for c in text if "\u0080" <= c <= "\u00bf" and c not in "\u00a0°²³±")
    return score


# --------------------------------------------------------------------------------------
# TCVN3 (ABC)
# --------------------------------------------------------------------------------------

# TCVN 5712:1993 "VN3" (the ABC fonts): lower-case letters and the seven upper-case letters
# with a modifier. Upper-case letters with tone marks are not in VN3 (users switched to the
# ``.VnTimeH`` upper-case fonts, which reuse the lower-case codes).
_TCVN3_PAIRS = (
    "¡Ă ¢Â £Ê ¤Ô ¥Ơ ¦Ư §Đ ¨ă ©â ªê «ô ¬ơ \u00adư ®đ µà ¶ả ·ã ¸á ¹ạ »ằ ¼ẳ ½ẵ ¾ắ Æặ Çầ "
    "Èẩ Éẫ Êấ Ëậ Ìè Îẻ Ïẽ Ðé Ñẹ Òề Óể Ôễ Õế Öệ ×ì Øỉ Üĩ Ýí Þị ßò áỏ âõ ãó äọ åồ æổ çỗ "
    "èố éộ êờ ëở ìỡ íớ îợ ïù ñủ òũ óú ôụ õừ öử ÷ữ øứ ùự úỳ ûỷ üỹ ýý þỵ"
).split()
_TCVN3_DECODE = {pair[0]: pair[1] for pair in _TCVN3_PAIRS}
_TCVN3_ENCODE = {u: t for t, u in _TCVN3_DECODE.items()}


def tcvn3_to_unicode(text: str) -> str:
    r"""Convert TCVN3 (ABC) text, read as Latin-1 or cp1252, to Unicode NFC.

    Parameters
    ----------
    text : str
        The text as a Latin-1/cp1252 reading of TCVN3 bytes shows it (e.g. "Hµ Néi").

    Returns
    -------
    str
        The Unicode text ("Hà Nội").

    Examples
    --------
    >>> tcvn3_to_unicode("V\xadên hoang ho¸")
    'Vườn hoang hoá'
    """
    return unicodedata.normalize("NFC", "".join(_TCVN3_DECODE.get(c, c) for c in text))


def unicode_to_tcvn3(text: str) -> str:
    """Encode Unicode text as TCVN3 would show when read as Latin-1 (to make test data).

    Upper-case letters with a tone mark, which TCVN3 lacks, are written lower case.

    Parameters
    ----------
    text : str
        Unicode text.

    Returns
    -------
    str
        The text in TCVN3, as a Latin-1 string (``.encode("latin-1")`` gives the bytes).
    """
    out = []
    for char in unicodedata.normalize("NFC", text):
        code = _TCVN3_ENCODE.get(char)
        if code is None and char.lower() != char:
            code = _TCVN3_ENCODE.get(char.lower())
        out.append(code if code is not None else char)
    return "".join(out)


# --------------------------------------------------------------------------------------
# VNI Windows
# --------------------------------------------------------------------------------------

# VNI writes a letter as its base letter followed by one byte for the modifier and tone;
# a few letters (i with tones, đ, ơ, ư, ỵ) have a one-byte code. Upper-case letters use
# the upper-case code bytes.
_VNI_TONE = {"grave": "ø", "acute": "ù", "hook": "û", "tilde": "õ", "dot": "ï"}
_VNI_CIRCUMFLEX = {None: "â", "acute": "á", "grave": "à", "hook": "å", "tilde": "ã", "dot": "ä"}
_VNI_BREVE = {None: "ê", "acute": "é", "grave": "è", "hook": "ú", "tilde": "ü", "dot": "ë"}
_VNI_I = {"grave": "ì", "acute": "í", "hook": "æ", "tilde": "ó", "dot": "ò"}


def _vni_code(letter: str) -> str | None:
    """The VNI sequence of one Vietnamese letter (None when it is plain ASCII)."""
    if letter in "đĐ":
        return "ñ" if letter == "đ" else "Ñ"
    parts = unicodedata.normalize("NFD", letter)
    base = parts[0]
    if not base.isascii() or len(parts) == 1:
        return None
    upper = base.isupper()
    low = base.lower()
    modifier = next((_MODIFIERS[m] for m in parts[1:] if m in _MODIFIERS), None)
    tone = next((_TONES[m] for m in parts[1:] if m in _TONES), None)

    def case(code: str) -> str:
        return code.upper() if upper else code

    if modifier == "circumflex":
        return base + case(_VNI_CIRCUMFLEX[tone])
    if modifier == "breve":
        return base + case(_VNI_BREVE[tone])
    if modifier == "horn":
        head = case("ô" if low == "o" else "ö")
        return head + (case(_VNI_TONE[tone]) if tone else "")
    if tone is None:
        return None
    if low == "i":
        return case(_VNI_I[tone])
    if low == "y" and tone == "dot":
        return case("î")
    return base + case(_VNI_TONE[tone])


def _vietnamese_letters() -> list[str]:
    letters = ["đ", "Đ"]
    for base in "aeiouyAEIOUY":
        for modifier in (None, "\u0302", "\u0306", "\u031b"):
            if modifier == "\u0302" and base.lower() not in "aeo":
                continue
            if modifier == "\u0306" and base.lower() != "a":
                continue
            if modifier == "\u031b" and base.lower() not in "ou":
                continue
            for tone in (None, *_TONES):
                letter = unicodedata.normalize("NFC", base + (modifier or "") + (tone or ""))
                if len(letter) == 1 and letter != base:
                    letters.append(letter)
    return letters


_VNI_ENCODE = {u: c for u in _vietnamese_letters() if (c := _vni_code(u)) is not None}
_VNI_DECODE = {c: u for u, c in _VNI_ENCODE.items()}
_VNI_PATTERN = re.compile(
    "|".join(re.escape(code) for code in sorted(_VNI_DECODE, key=len, reverse=True))
)


def vni_to_unicode(text: str) -> str:
    """Convert VNI Windows text, read as cp1252 or Latin-1, to Unicode NFC.

    Parameters
    ----------
    text : str
        The text as a cp1252 reading of VNI bytes shows it (e.g. "Vieät Nam").

    Returns
    -------
    str
        The Unicode text ("Việt Nam").

    Examples
    --------
    >>> vni_to_unicode("Thoân Ñoâng Hoøa")
    'Thôn Đông Hòa'
    """
    return unicodedata.normalize("NFC", _VNI_PATTERN.sub(lambda m: _VNI_DECODE[m.group(0)], text))


def unicode_to_vni(text: str) -> str:
    """Encode Unicode text as VNI would show when read as cp1252 (to make test data).

    Parameters
    ----------
    text : str
        Unicode text.

    Returns
    -------
    str
        The text in VNI, as a cp1252 string (``.encode("cp1252")`` gives the bytes).
    """
    return "".join(_VNI_ENCODE.get(c, c) for c in unicodedata.normalize("NFC", text))


# --------------------------------------------------------------------------------------
# Detection and repair
# --------------------------------------------------------------------------------------

ENCODINGS = ("unicode", "tcvn3", "vni", "utf8-as-latin1", "cp1258-as-latin1")
# each encoding as a sentence names it (a key of the i18n catalogue, see _MESSAGES)
_ENCODING_LABELS = {name: f"text.encoding.{name}" for name in ENCODINGS if name != "unicode"}


def _raw_bytes(text: str) -> bytes | None:
    for codec in ("latin-1", "cp1252"):
        try:
            return text.encode(codec)
        except UnicodeEncodeError:
            continue
    return None


def _candidates(text: str) -> dict[str, str]:
    found = {"unicode": unicodedata.normalize("NFC", text)}
    if text.isascii():
        return found
    raw = _raw_bytes(text)
    if raw is None:
        return found
    latin = raw.decode("latin-1")
    found["tcvn3"] = tcvn3_to_unicode(latin)
    found["vni"] = vni_to_unicode(raw.decode("cp1252", errors="replace"))
    try:
        found["utf8-as-latin1"] = unicodedata.normalize("NFC", raw.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    found["cp1258-as-latin1"] = unicodedata.normalize("NFC", raw.decode("cp1258", errors="replace"))
    return found


def detect_encoding(text: str) -> str:
    """Tell which encoding a string read from a file is really in.

    Parameters
    ----------
    text : str
        A value as read (legacy text shows as Latin-1/cp1252 characters).

    Returns
    -------
    str
        ``"ascii"`` (nothing to tell), ``"unicode"`` (fine as it is), ``"tcvn3"``,
        ``"vni"``, ``"utf8-as-latin1"`` (UTF-8 bytes read as Latin-1) or
        ``"cp1258-as-latin1"``: the reading that gives the most valid Vietnamese
        syllables. The text as it is wins ties.
    """
    if not isinstance(text, str) or text.isascii():
        return "ascii"
    return _detect(text)


@functools.lru_cache(maxsize=65536)
def _detect(text: str) -> str:
    # cached: a column repeats its hamlet names, land-use codes and classes
    candidates = _candidates(text)
    best, best_score = "unicode", _score(candidates["unicode"])
    for name, converted in candidates.items():
        if name == "unicode" or "\ufffd" in converted:
            continue
        score = _score(converted)
        if score > best_score:
            best, best_score = name, score
    return best


def repair_text(text, *, encoding: str | None = None):
    """Return ``text`` in Unicode NFC, converting legacy encodings (detected or given).

    Parameters
    ----------
    text : object
        A value as read; non-strings are returned unchanged.
    encoding : str, optional
        Force one of ``"unicode"``, ``"tcvn3"``, ``"vni"``, ``"utf8-as-latin1"``,
        ``"cp1258-as-latin1"``; detected per value by default (:func:`detect_encoding`).

    Returns
    -------
    object
        The repaired string.

    Examples
    --------
    >>> repair_text("NguyÔn V¨n Hßa")
    'Nguyễn Văn Hòa'
    >>> repair_text("Nguyeãn Vaên Hoøa")
    'Nguyễn Văn Hòa'
    """
    if not isinstance(text, str):
        return text
    name = encoding or detect_encoding(text)
    if name in ("ascii", "unicode"):
        return unicodedata.normalize("NFC", text)
    if name not in ENCODINGS:
        raise ConfigError(
            _say("error.text.unknown_encoding", encoding=encoding, choices=", ".join(ENCODINGS))
        )
    return _candidates(text).get(name, unicodedata.normalize("NFC", text))


def _plausible(text: str) -> bool:
    """Every non-ASCII word a Vietnamese syllable, no misread Latin-1 symbols."""
    if "\ufffd" in text:
        return False
    words = [w for w in _WORD.findall(text) if not w.isascii()]
    return bool(words) and all(is_vietnamese_syllable(w) for w in words) and _score(text) > 0


def _per_value(func):
    """``func`` computed once per distinct cell value (a column repeats its values).

    Values are keyed by type too (``1``, ``1.0`` and ``True`` read differently); an
    unhashable value is computed each time.
    """
    cache: dict = {}

    def get(value):
        key = (type(value), value)
        try:
            return cache[key]
        except KeyError:
            cache[key] = result = func(value)
            return result
        except TypeError:
            return func(value)

    return get


#: Share of a column's non-ASCII values one legacy encoding must hold to decide the column.
COLUMN_MAJORITY = 0.6


def _column_encoding(texts, detected, counts):
    """(legacy encoding, which texts to read by it) when one legacy encoding holds the column.

    A short value ("Thò An", "Vãn") often reads as valid text in two encodings; decided
    value by value, 1-2 % of a TCVN3/VNI/cp1258 column come out wrong. When one legacy
    encoding holds at least :data:`COLUMN_MAJORITY` of the non-ASCII values, every other
    value whose reading in that encoding is plausible Vietnamese is read by it too.
    ``texts`` are the column's distinct texts, ``detected`` their encodings, ``counts``
    the column's (rows); the second item returned is a flag per distinct text.
    """
    total = sum(counts.values())
    legacy = [(n, name) for name, n in counts.items() if name != "unicode"]
    if not total or not legacy:
        return None
    n, name = max(legacy)
    if n < COLUMN_MAJORITY * total:
        return None
    changed = []
    for value, found in zip(texts, detected):
        ok = False
        if found not in ("ascii", name):
            reading = _candidates(value).get(name)
            ok = reading is not None and _plausible(reading)
        changed.append(ok)
    return name, changed


def _row_counts(detected):
    """Counter of the rows' encodings (ASCII left out), in the order they first appear."""
    import numpy as np

    legacy = detected[detected != "ascii"]
    first = dict.fromkeys(legacy.tolist())  # first appearance order, as a row scan
    return Counter({name: int(np.count_nonzero(legacy == name)) for name in first})


def _encoding_message(said: dict, lang: str | None = None) -> str:
    """What :func:`repair_column` found, in words (``lang``: default the language in force)."""
    column, source = said["column"], said["source"]
    where = (
        _say("text.where_column_of", lang, column=column, source=source)
        if source
        else _say("text.where_column", lang, column=column)
    )
    text = ""
    counts = said["counts"]
    legacy = {k: v for k, v in counts.items() if k != "unicode"}
    if said["mixed"]:
        parts = "; ".join(
            _say(
                "warning.text.mixed_part",
                lang,
                encoding=name,
                count=n,
                rows=", ".join(map(str, said["rows"][name])),
            )
            for name, n in counts.most_common()
        )
        text = _say("warning.text.mixed", lang, where=where, parts=parts)
    elif legacy:
        name, n = next(iter(legacy.items()))
        text = _say(
            "warning.text.converted",
            lang,
            where=where,
            count=n,
            encoding=_say(_ENCODING_LABELS[name], lang),
        )
    if said["reread"] is not None and text:  # said after what the column holds
        _, count, rows = said["reread"]
        text += _say("warning.text.reread", lang, count=count, rows=", ".join(map(str, rows)))
    return text


def repair_column(values, *, column: str = "", source: str = "", first_row: int = 1):
    """Repair a column of text values and report which encodings it held.

    One column should hold one encoding, so the decision is made per column: when one
    legacy encoding holds most of its non-ASCII values (:data:`COLUMN_MAJORITY`), the
    other values are read by it too wherever that reading is plausible Vietnamese (short
    values are often valid in two encodings). Values that still disagree (some TCVN3,
    some Unicode, say) are converted by their own reading, and the result says so, so
    the caller can warn naming the column and rows.

    Parameters
    ----------
    values : iterable
        The values (a pandas Series keeps its index).
    column : str, optional
        The column name, for messages.
    source : str, optional
        The file name, for messages.
    first_row : int, optional
        Row number of the first value, for messages.

    Returns
    -------
    repaired : list or pandas.Series
        The repaired values (a Series when a Series was given).
    info : dict
        ``encodings``: Counter of detected encodings (ASCII values left out);
        ``mixed``: True when more than one legacy/Unicode encoding was found;
        ``rows``: for each encoding, the first few row numbers; ``message``: a readable
        summary naming the column and file, in English, for the records (empty when
        there is nothing to say); ``warning``: the same in the language in force.
    """
    import numpy as np

    index = values.index if hasattr(values, "iloc") else None
    items = list(values)
    # each distinct text decided once (a column repeats its values); rows kept for notes
    position: dict[str, int] = {}
    codes = np.fromiter(
        (position.setdefault(v, len(position)) if isinstance(v, str) else -1 for v in items),
        dtype=np.int64,
        count=len(items),
    )
    texts = list(position)
    found = np.array(["ascii", *(detect_encoding(v) for v in texts)], dtype=object)
    detected = found[codes + 1]  # code -1 (not text): "ascii"
    counts = _row_counts(detected)
    rows: dict[str, list[int]] = {
        name: (np.flatnonzero(detected == name)[:5] + first_row).tolist() for name in counts
    }
    decided = _column_encoding(texts, found[1:], counts)
    reread = None
    if decided is not None:
        name, flags = decided
        is_changed = np.array([False, *flags], dtype=bool)
        changed = np.flatnonzero(is_changed[codes + 1])
        found[is_changed] = name
        detected = found[codes + 1]
        counts = _row_counts(detected)
        if changed.size:
            reread = (name, int(changed.size), (changed[:5] + first_row).tolist())
    done = [repair_text(v, encoding=d) for v, d in zip(texts, found[1:])]
    repaired = [done[c] if c >= 0 else v for c, v in zip(codes.tolist(), items)]
    mixed = len(counts) > 1
    said = {
        "column": column,
        "source": source,
        "reread": reread,
        "counts": counts,
        "rows": rows,
        "mixed": mixed,
    }
    info = {
        "encodings": counts,
        "mixed": mixed,
        "rows": rows,
        "message": _encoding_message(said, "en"),
        "warning": _encoding_message(said),
    }
    if index is not None:
        import pandas as pd

        return pd.Series(repaired, index=index, name=getattr(values, "name", None)), info
    return repaired, info


def encode_cp1258(text: str) -> bytes:
    """Encode Unicode text in Windows-1258, splitting off tone marks it has no letter for.

    Parameters
    ----------
    text : str
        Unicode text.

    Returns
    -------
    bytes
        The cp1258 bytes (``decode_bytes`` reads them back).
    """
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, tone, _ = _split_syllable_tone(char)
        out += base.encode("cp1258", errors="replace")
        if tone:
            out += _TONE_BY_NAME[tone].encode("cp1258")
    return bytes(out)


def _utf16_codec(data: bytes) -> str | None:
    """``"utf-16"`` (BOM) or ``"utf-16-le"``/``"-be"`` (ASCII-heavy text without one)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = data[:4096]
    if len(head) < 4 or len(head) % 2:
        head = head[: len(head) - len(head) % 2]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, *, encoding: str | None = None) -> tuple[str, str]:
    """Decode the bytes of a text file: UTF-8 (with or without BOM), UTF-16, cp1258, TCVN3, VNI.

    Parameters
    ----------
    data : bytes
        The whole file.
    encoding : str, optional
        A Python codec name to use instead of detecting.

    Returns
    -------
    text : str
        The text, NFC.
    encoding : str
        What was used: ``"utf-8-sig"``, ``"utf-8"``, ``"utf-16"`` (``-le``/``-be`` without
        a BOM), ``"cp1258"``, ``"tcvn3"``, ``"vni"``, or the codec given.
    """
    if encoding is not None:
        return unicodedata.normalize("NFC", data.decode(encoding)), encoding
    utf16 = _utf16_codec(data)
    if utf16 is not None:  # Excel's "Unicode text" and PowerShell write UTF-16
        text = data.decode(utf16, errors="replace").lstrip("\ufeff")
        return unicodedata.normalize("NFC", text), utf16
    if data.startswith(b"\xef\xbb\xbf"):
        return unicodedata.normalize("NFC", data[3:].decode("utf-8", errors="replace")), (
            "utf-8-sig"
        )
    try:
        return unicodedata.normalize("NFC", data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    latin = data.decode("latin-1")
    readings = {
        "cp1258": unicodedata.normalize("NFC", data.decode("cp1258", errors="replace")),
        "tcvn3": tcvn3_to_unicode(latin),
        "vni": vni_to_unicode(data.decode("cp1252", errors="replace")),
    }
    scores = {name: _score(text) - 5 * text.count("\ufffd") for name, text in readings.items()}
    best = max(scores, key=lambda name: scores[name])
    return readings[best], best


# --------------------------------------------------------------------------------------
# Column aliases
# --------------------------------------------------------------------------------------


def match_columns(
    columns: Iterable,
    aliases: Mapping[str, Iterable[str]],
    *,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Find the column of each standard field by its known aliases.

    Parameters
    ----------
    columns : iterable
        The column names of a table.
    aliases : mapping
        Standard field name -> known spellings; compared with :func:`header_key`, so
        case, spaces, underscores, punctuation and diacritics do not matter. Fields are
        matched in the order given and each column is used once.
    overrides : mapping, optional
        Standard field name -> column name given by the user (wins over the aliases; also
        compared with :func:`header_key`).

    Returns
    -------
    dict
        Standard field name -> actual column name, for the fields found.

    Raises
    ------
    SchemaError
        When an override names a column that does not exist (also a ``KeyError``; its
        last argument is the column: the caller names the file).
    """
    columns = [c for c in columns]
    by_key: dict[str, list] = {}
    for column in columns:
        by_key.setdefault(header_key(column), []).append(column)
    found: dict[str, str] = {}
    used: set = set()
    for field, column in (overrides or {}).items():
        if column in columns:
            found[field] = column
        elif by_key.get(header_key(column)):
            found[field] = by_key[header_key(column)][0]
        else:
            raise SchemaError(_say("error.text.column_missing", column=column), column)
        used.add(found[field])
    for field, names in aliases.items():
        if field in found:
            continue
        for name in [field, *names]:
            hit = [c for c in by_key.get(header_key(name), []) if c not in used]
            if hit:
                found[field] = hit[0]
                used.add(hit[0])
                break
    return found


class Metadata(dict):
    """A dict for ``DataFrame.attrs`` that pandas does not deep-copy on every operation.

    pandas copies ``attrs`` deeply whenever a frame is derived (even ``df.at``); a long
    list of issues there would make every later step slow. The metadata is read-only
    information about the source, so sharing it is safe.
    """

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self


# --------------------------------------------------------------------------------------
# Numbers written the Vietnamese way
# --------------------------------------------------------------------------------------

_THOUSANDS_DOT = re.compile(r"^[-+]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_THOUSANDS_COMMA = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")
_PLAIN = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")


def parse_vn_number(value) -> tuple[float | None, str | None]:
    """Read a number as Vietnamese users type it: "1.250" is 1250, "12,5" is 12.5.

    Parameters
    ----------
    value : object
        A number, or text such as ``"1.250"``, ``"1.250,5"``, ``"12,5"``, ``"1250 m²"``.

    Returns
    -------
    number : float or None
        The value, or None when blank or unreadable.
    note : str or None
        ``"thousands_separator"`` when a dot (or comma) separated thousands,
        ``"decimal_comma"`` when a comma was the decimal mark, ``"unreadable"`` when the
        text is no number, else None.

    Examples
    --------
    >>> parse_vn_number("1.250")
    (1250.0, 'thousands_separator')
    >>> parse_vn_number("12,5")
    (12.5, 'decimal_comma')
    >>> parse_vn_number(656)
    (656.0, None)
    """
    if value is None or isinstance(value, bool):
        return None, None
    if isinstance(value, int | float):
        return (None, None) if value != value else (float(value), None)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = re.sub(r"\s*(m2|m²|m\^2|ha)$", "", text, flags=re.IGNORECASE).replace(" ", "")
    text = text.replace("\u00a0", "")
    if not text:
        return None, None
    if _THOUSANDS_DOT.match(text):
        return float(text.replace(".", "").replace(",", ".")), "thousands_separator"
    if _DECIMAL_COMMA.match(text):
        return float(text.replace(",", ".")), "decimal_comma"
    if _THOUSANDS_COMMA.match(text):
        return float(text.replace(",", "")), "thousands_separator"
    if _PLAIN.match(text):
        return float(text), None
    return None, "unreadable"
