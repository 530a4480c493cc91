"""Hamlets as people name them: place text (DIADANH) parsed into hamlet and commune.

Cadastral files carry the place of a parcel as one text, ``DIADANH``: "Xóm 1, xã Nghi
Phong", "thôn Việt Hòa, xã Vân Hòa (cũ)", "Cánh đồng Bàu, xã Nghi Phong". The hamlet is
the first part, written with the unit word the region uses: *thôn*, *xóm* (North
Central), *ấp* (South), *bản* (mountain North), *buôn* (Central Highlands), *làng*,
*sóc*, *tổ dân phố* / *khu phố* (towns). :func:`parse_place` splits such a text into the
unit word, the name and the commune, normalising the case, the Unicode form (NFC), the
tone-mark placement and the unit word ("thôn" → "Thôn"), and keeps the unit word the data
uses: a "Xóm" stays a "Xóm", never becomes a "Thôn".

Places that hold no household garden (``cánh đồng``, ``xứ đồng``, ``đồng``, ``ruộng``,
``rừng``, ``núi``, ``đồi``, ``sông``, ``suối``, ``hồ``, ``bãi``...) are not hamlets: they
get no map page and no row in the ranking; their parcels stay in every output with the
place kind (``place_kind``) that says why. Text with no recognisable unit word is kept
whole as the hamlet's name (and said once).

:func:`assign_hamlets` gives every parcel its hamlet: an explicit ``hamlet`` column or
a hamlet layer always wins over the parsed place text; spellings of one hamlet that
differ only in case, spaces, tone placement or diacritics are merged (and reported).

Examples
--------
>>> p = parse_place("Xóm 1, xã Nghi Phong")
>>> p.hamlet, p.commune, p.kind
('Xóm 1', 'Xã Nghi Phong', 'thon_xom')
>>> parse_place("thôn Việt Hoà, xã Vân Hòa (cũ)").hamlet
'Thôn Việt Hòa'
>>> parse_place("Cánh đồng Bàu, xã Nghi Phong").kind
'canh_dong'
>>> parse_place("TỔ DÂN PHỐ 3, PHƯỜNG BẮC HÀ").hamlet
'Tổ dân phố 3'
>>> hamlet_key("Xóm Hoà Bình") == hamlet_key("xom hoa binh")
True
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from . import palette as _palette
from .errors import ParcelWarning, warn
from .i18n import message as _say
from .i18n import register_all
from .text import clean_text, fold

__all__ = [
    "UNIT_WORDS",
    "NON_HAMLET_WORDS",
    "PLACE_KINDS",
    "Place",
    "parse_place",
    "hamlet_key",
    "hamlet_title",
    "is_hamlet_kind",
    "normalise_hamlets",
    "assign_hamlets",
]

logger = logging.getLogger(__name__)

# Hamlet messages (ntmgis.i18n catalogue): key -> (vi, en).
_MESSAGES = {
    "warning.places.spelling_merged": (
        "{where}: {count} cách viết tên thôn được viết thống nhất một kiểu: {pairs}.",
        "{where}: {count} hamlet spelling(s) written the one way: {pairs}.",
    ),
    "warning.places.no_unit_word": (
        "{where}: {count} địa danh không có từ chỉ đơn vị (thôn, xóm, ấp, bản...) nên được "
        "giữ nguyên làm tên thôn: {names}. Nếu đó không phải là thôn, thêm từ chỉ đơn vị vào "
        "địa danh trong tệp, hoặc dùng lớp ranh giới thôn.",
        "{where}: {count} place name(s) have no unit word (thôn, xóm, ấp, bản...) and are "
        "kept whole as hamlet names: {names}. Add the unit word to the place text, or give "
        "a hamlet layer, if they are not hamlets.",
    ),
    "warning.places.non_hamlet_place": (
        "{where}: {count} thửa nằm ở nơi không phải là thôn ({places}): không có trang bản đồ "
        "và không xếp hạng; các thửa này vẫn được giữ, kèm loại địa danh (place_kind).",
        "{where}: {count} parcel(s) lie in places that are not hamlets ({places}): no map "
        "page and no ranking row for them; they are kept with their place_kind.",
    ),
    "places.and_more": ("{shown} và {more} nơi khác", "{shown} and {more} more"),
    # how the hamlets were found (attrs["hamlet_summary"], the run summary)
    "places.summary.layer": (
        "{count} thôn theo lớp ranh giới thôn",
        "{count} hamlets from the hamlet layer",
    ),
    "places.summary.column": (
        "{count} thôn theo cột tên thôn '{column}'",
        "{count} hamlets from the hamlet column '{column}'",
    ),
    "places.summary.place_text": (
        "{count} thôn tách từ địa danh '{column}'",
        "{count} hamlets parsed from the place text '{column}'",
    ),
    "places.summary.none": (
        "không có thôn (thửa đất không ghi địa danh và không có lớp ranh giới thôn)",
        "no hamlets (the parcels name no place and no hamlet layer is given)",
    ),
    "places.summary.moved": (
        " ({count} thửa được xếp vào thôn theo vị trí trên lớp ranh giới)",
        " ({count} parcel(s) placed by location in the layer)",
    ),
    "places.summary.parcels": ("{place} ({count} thửa)", "{place} ({count} parcels)"),
    "places.summary.non_hamlet": ("; không phải thôn: {places}", "; not hamlets: {places}"),
    "places.summary.merged": (
        "; {count} cách viết được viết thống nhất",
        "; {count} spelling(s) merged",
    ),
}
register_all(_MESSAGES)

# the unit words of a hamlet-level place, as written at the start of a name (longest first)
UNIT_WORDS = (
    "Tổ dân phố", "Khu phố", "Thôn", "Xóm", "Ấp", "Bản", "Buôn", "Làng", "Sóc", "Khối",
    "Khóm", "Phum",
)  # fmt: skip
# unit words that name a hamlet only before its number: "Đội 5" (a former production
# team the commune still calls so), "Tổ 3"; "Đội Cấn", "Tổ Hợp" are names, not units
_NUMBERED_UNITS = re.compile(r"^(?P<word>doi|to)\s+(?P<rest>\d+[a-z]?(?:\s.*)?)$")
_NUMBERED_WORDS = {"doi": "Đội", "to": "Tổ"}
# unit words as cadastral files abbreviate them: "TDP 2", "TDP.3", "KP 4", "Tổ DP 5"
_UNIT_ABBREVIATIONS = re.compile(
    r"^(?:(?P<tdp>tdp|to\s*dp)|(?P<kp>kp))(?:\s*\.\s*|\s+|(?=\d))(?P<rest>\S.*)$"
)
# words that start a place holding no household garden -> place kind
NON_HAMLET_WORDS = {
    "Cánh đồng": "canh_dong",
    "Xứ đồng": "canh_dong",
    "Đồng": "canh_dong",
    "Ruộng": "canh_dong",
    "Rừng": "rung_nui",
    "Núi": "rung_nui",
    "Đồi": "rung_nui",
    "Sông": "song_ho",
    "Suối": "song_ho",
    "Hồ": "song_ho",
    "Ao": "song_ho",
    "Đầm": "song_ho",
    "Kênh": "song_ho",
    "Khe": "song_ho",
    "Bãi": "bai",
    "Nghĩa trang": "nghia_trang",
    "Nghĩa địa": "nghia_trang",
}
# the place kinds (labels in ntmgis.palette, theme "place_kind"); the first two are hamlets
PLACE_KINDS = tuple(_palette.get_theme("place_kind").keys)
# kinds that may hold household gardens: a hamlet, a unit-less name, no place at all
_HAMLET_KINDS = ("thon_xom", "khong_ro", "trong")
_COMMUNE_WORDS = {"xa": "Xã", "phuong": "Phường", "thi tran": "Thị trấn"}
# columns holding a place text (parsed), not a hamlet's name: DIADANH, an address
_PLACE_COLUMNS = frozenset(
    {"diadanh", "dia_danh", "ten_dia_danh", "place", "diachi", "dia_chi", "diachithua",
     "diachithuadat", "dia_chi_thua"}
)  # fmt: skip
_HIGHER_WORDS = ("huyen", "quan", "thi xa", "thanh pho", "tinh", "tp")
_OLD = re.compile(r"\(\s*(cũ|cu|trước đây)\s*\)", re.IGNORECASE)
# a remark in brackets on a hamlet or commune, not part of its name: "(sáp nhập)", "(mới)",
# "(nay là xã Ba Vì)", "(thôn Đông cũ)", "(trước đây là Xóm 3)" (NFC text, any case)
_REMARK = re.compile(
    r"\(\s*(?:(?:đã\s+|da\s+)?(?:sáp nhập|sap nhap|hợp nhất|hop nhat)[^()]*|mới|moi"
    r"|(?:nay|trước đây|truoc day|trước là|truoc la)\b[^()]*|[^()]*\s(?:cũ|cu))\s*\)",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"\s*[,;]\s*|\s+-\s+|\s+–\s+")
_ROMAN = re.compile(r"^[ivxlc]+$", re.IGNORECASE)


def _lead(words, text: str, *, ambiguous: bool = True) -> tuple[str, str] | None:
    """The word of ``words`` that ``text`` starts with, and the rest of ``text``.

    A text written with diacritics is compared with them ("Đông Hòa" is no "Đồng"); a
    text written without any is compared folded, and then only words that cannot be
    read as another syllable count unless ``ambiguous`` ("dong" may be Đông or Đồng).
    """
    lowered = text.lower()
    plain = fold(text) == lowered
    for word in sorted(words, key=len, reverse=True):
        if plain:
            key = fold(word)
            if not ambiguous and " " not in key:
                continue
            if lowered == key or lowered.startswith(key + " "):
                return word, text[len(key) :].strip()
        else:
            key = word.lower()
            if lowered == key or lowered.startswith(key + " "):
                return word, text[len(word) :].strip()
    return None


def _name_case(name: str) -> str:
    """Capitalise each syllable of a name written all lower or all upper case.

    A name written in mixed case is kept as the data writes it ("Đông Hòa", "Xóm 1").
    Roman numerals are written upper case ("thôn iv" → "IV"), and so is the letter of a
    number ("xóm 12a" → "12A", "THÔN 1B" → "1B").
    """
    if not name:
        return name
    letters = [c for c in name if c.isalpha()]
    if letters and not (all(c.islower() for c in letters) or all(c.isupper() for c in letters)):
        return name
    words = []
    for word in name.split(" "):
        if _ROMAN.match(word) and len(word) <= 4 and word.lower() not in ("li", "lc"):
            words.append(word.upper())
        elif word[:1].isdigit():  # a numbered hamlet's letter: "12A", "1B"
            words.append(word.upper())
        else:
            words.append(word[:1].upper() + word[1:].lower())
    return " ".join(words)


@dataclass(frozen=True)
class Place:
    """One place text, parsed.

    Attributes
    ----------
    text : str or None
        The text as given (NFC).
    unit : str or None
        The unit word, capitalised ("Xóm", "Thôn", "Tổ dân phố"), or the non-hamlet
        word ("Cánh đồng"), or None when there is none.
    name : str or None
        The name after the unit word ("1", "Việt Hòa").
    hamlet : str or None
        The hamlet as titles and tables write it ("Xóm 1"); None for a place that is not
        a hamlet (a field, a forest...) or an empty text.
    place : str or None
        The first part, normalised, whatever its kind ("Cánh đồng Bàu").
    commune : str or None
        "Xã Nghi Phong", "Phường Bắc Hà", "Thị trấn ..."; None when the text names none.
    kind : str
        A key of :data:`PLACE_KINDS`: ``thon_xom``, ``khong_ro`` (no unit word; kept
        whole as a hamlet), ``canh_dong``, ``rung_nui``, ``song_ho``, ``bai``,
        ``nghia_trang`` or ``trong`` (empty).
    old : bool
        The text marks a former name or unit ("(cũ)").
    """

    text: str | None
    unit: str | None
    name: str | None
    hamlet: str | None
    place: str | None
    commune: str | None
    kind: str
    old: bool = False

    @property
    def is_hamlet(self) -> bool:
        """Whether the place is a hamlet (a residential place with household gardens)."""
        return self.kind in _HAMLET_KINDS


def is_hamlet_kind(kind) -> bool:
    """Whether a ``place_kind`` key names a hamlet (or is missing: nothing says otherwise).

    An empty place (``trong``) is a parcel whose hamlet is not known, not a field.

    >>> is_hamlet_kind("thon_xom"), is_hamlet_kind("canh_dong"), is_hamlet_kind(None)
    (True, False, True)
    """
    return not isinstance(kind, str) or kind in _HAMLET_KINDS


def parse_place(text) -> Place:
    """Parse one place text (DIADANH) into unit word, name, hamlet and commune.

    Parameters
    ----------
    text : str or None
        "Xóm 1, xã Nghi Phong", "thôn Việt Hòa, xã Vân Hòa (cũ)", "Ấp Bình Lợi",
        "Cánh đồng Bàu, xã Nghi Phong", "Đông Hòa"...

    Returns
    -------
    Place
        See :class:`Place`. The parts are split at commas, semicolons or a spaced dash;
        a text without them is split before its commune word ("Xóm 1 xã Nghi Phong").

    Examples
    --------
    >>> parse_place("Ấp Bình Lợi, Xã Tân Thạnh, Huyện Châu Thành").commune
    'Xã Tân Thạnh'
    >>> p = parse_place("Đông Hòa")
    >>> p.hamlet, p.kind
    ('Đông Hòa', 'khong_ro')
    >>> parse_place("xom 5 xa nghi phong").hamlet  # the unit word written one way
    'Xóm 5'
    >>> parse_place("Đồng Cửa Nghè").kind, parse_place("Đông Cửa").kind
    ('canh_dong', 'khong_ro')
    """
    return _parse_place(text) if isinstance(text, str) else _parse_text(None)


@functools.lru_cache(maxsize=65536)
def _parse_place(text: str) -> Place:
    """:func:`parse_place` of one string, cached: a commune repeats a few dozen texts."""
    return _parse_text(text)


def _parse_text(text) -> Place:
    """:func:`parse_place` without the cache (the Place is frozen: safe to share)."""
    raw = clean_text(text) if isinstance(text, str) else None
    if not raw:
        return Place(raw, None, None, None, None, None, "trong")
    old = bool(_OLD.search(raw))
    body = _REMARK.sub(" ", _OLD.sub(" ", raw))
    body = re.sub(r"\s+", " ", body).strip(" ,;.-–")
    parts = [p.strip(" .") for p in _SPLIT.split(body) if p.strip(" .")]
    if len(parts) == 1:  # "Xóm 1 xã Nghi Phong": split before the commune word
        m = re.search(r"\s(xã|xa|phường|phuong|thị trấn|thi tran)\s", parts[0], re.IGNORECASE)
        if m and m.start() > 0:
            parts = [parts[0][: m.start()].strip(), parts[0][m.start() :].strip()]
    commune = None
    for part in parts[1:]:
        folded = fold(part)
        for key, word in _COMMUNE_WORDS.items():
            if folded.startswith(key + " "):
                commune = f"{word} {_name_case(part[len(key) :].strip())}"
                break
        if commune:
            break
    first = parts[0] if parts else body
    # a text that starts with the commune ("xã Nghi Phong") names no hamlet
    if any(fold(first).startswith(k + " ") for k in _COMMUNE_WORDS) and len(parts) == 1:
        word = next(w for k, w in _COMMUNE_WORDS.items() if fold(first).startswith(k + " "))
        rest = first.split(" ", 2 if word == "Thị trấn" else 1)[-1]
        return Place(raw, None, None, None, None, f"{word} {_name_case(rest)}", "trong", old)
    unit = _unit_of(first)
    if unit is None and _lead(list(NON_HAMLET_WORDS), first, ambiguous=False) is None:
        # "Số 12, đường Lê Lợi, thôn Đông, xã ...": the part before the commune with a unit
        for part in parts[1:]:
            if any(fold(part).startswith(k + " ") for k in _COMMUNE_WORDS):
                break
            if _unit_of(part) is not None:
                first, unit = part, _unit_of(part)
                break
    if unit is not None:
        word, name = unit
        name = _name_case(name)
        hamlet = f"{word} {name}".strip()
        return Place(raw, word, name or None, hamlet, hamlet, commune, "thon_xom", old)
    other = _lead(list(NON_HAMLET_WORDS), first, ambiguous=False)
    if other is not None:
        word, name = other
        place = f"{word} {_name_case(name)}".strip()
        return Place(raw, word, _name_case(name) or None, None, place, commune,
                     NON_HAMLET_WORDS[word], old)  # fmt: skip
    name = _name_case(first)
    return Place(raw, None, name, name, name, commune, "khong_ro", old)


def _unit_of(part: str) -> tuple[str, str] | None:
    """The hamlet unit word a place part starts with (abbreviated too), and the name."""
    short = _UNIT_ABBREVIATIONS.match(fold(part))
    if short:
        word = "Tổ dân phố" if short.group("tdp") else "Khu phố"
        return word, part[short.start("rest") :].strip()
    numbered = _NUMBERED_UNITS.match(fold(part))
    if numbered:  # "Đội 5" or "doi 5", never "Đồi 5" (a hill) nor "Tơ 5"
        word = _NUMBERED_WORDS[numbered.group("word")]
        if part.split(" ", 1)[0].lower() in (word.lower(), numbered.group("word")):
            return word, part[numbered.start("rest") :].strip()
    return _lead(UNIT_WORDS, part)


def hamlet_key(name) -> str:
    """The key two spellings of one hamlet share: folded, without the unit word.

    Case, spaces, tone placement, diacritics and the unit word do not count, so "Xóm Hoà
    Bình", "xom hoa binh" and "Hòa Bình" share a key (and "Xóm 1" is "Thôn 1").

    >>> hamlet_key("Thôn Đông Hoà"), hamlet_key("Xóm 1, xã Nghi Phong")
    ('dong hoa', '1')
    """
    if not isinstance(name, str):
        return ""
    return _hamlet_key(name)


@functools.lru_cache(maxsize=65536)
def _hamlet_key(name: str) -> str:
    """:func:`hamlet_key` of one string, cached (called per parcel and survey row)."""
    if not name.strip():
        return ""
    place = parse_place(name)
    rest = place.name if place.unit else place.place
    return fold(rest or place.place or name)


def hamlet_title(name) -> str:
    """A hamlet's name for a title: as the data writes it, its own unit word kept.

    Never forces "Thôn": "Xóm 1" stays "Xóm 1", a name with no unit word stays whole.

    >>> hamlet_title("xóm 1, xã Nghi Phong"), hamlet_title("Ấp Bình Lợi"), hamlet_title("Đông")
    ('Xóm 1', 'Ấp Bình Lợi', 'Đông')
    """
    place = parse_place(name)
    return place.hamlet or place.place or (clean_text(name) if isinstance(name, str) else "")


def _spelling_rank(text: str) -> tuple:
    """Prefer spellings with diacritics and mixed case when counts tie."""
    has_marks = fold(text) != text.lower()
    return (has_marks, text != text.lower() and text != text.upper())


def normalise_hamlets(values, *, official=None, where: str = "parcels") -> pd.DataFrame:
    """Parse place texts and write each hamlet one way (the official or commonest spelling).

    Parameters
    ----------
    values : sequence of str or None
        The place texts, one per parcel (or survey row).
    official : sequence of str, optional
        Hamlet names that win over the data's own spellings (a hamlet layer's names).
    where : str
        What the values are, for messages.

    Returns
    -------
    pandas.DataFrame
        One row per value: ``hamlet`` (None for a non-hamlet place or an empty text),
        ``place`` (the first part, normalised), ``place_kind``, ``place_commune``.
        ``attrs["merged"]``: ``{spelling: hamlet}`` for each spelling written another
        way; ``attrs["unitless"]``: the names with no unit word; ``attrs["non_hamlet"]``:
        place -> kind, for the places that are not hamlets.

    Examples
    --------
    >>> t = normalise_hamlets(["Xóm Hòa Bình, xã Nghi Phong", "xom hoa binh", "Xóm Hòa Bình"])
    >>> t["hamlet"].tolist(), t.attrs["merged"]
    (['Xóm Hòa Bình', 'Xóm Hòa Bình', 'Xóm Hòa Bình'], {'Xóm Hoa Binh': 'Xóm Hòa Bình'})
    """
    values = list(values)
    cache: dict = {}
    parsed = []
    for v in values:
        if v not in cache:
            cache[v] = parse_place(v if isinstance(v, str) else None)
        parsed.append(cache[v])
    parsed = _without_commune_tail(parsed)
    # one spelling per hamlet: the official one, else the commonest (ties: diacritics)
    counts = Counter(p.hamlet for p in parsed if p.hamlet)
    by_key: dict[str, Counter] = {}
    for name, n in counts.items():
        by_key.setdefault(fold(name), Counter())[name] += n
    chosen: dict[str, str] = {}
    for key, spellings in by_key.items():
        best = max(spellings, key=lambda s: (spellings[s], _spelling_rank(s)))
        chosen[key] = best
    for name in official or ():
        if isinstance(name, str) and name.strip():
            clean = clean_text(name)
            chosen[fold(clean)] = clean
            # an official name without unit word claims the data's "Xóm X" of that name
            for key in list(by_key):
                if key not in chosen or chosen[key] == clean:
                    continue
                if hamlet_key(key) == hamlet_key(clean) and fold(clean) not in by_key:
                    chosen[key] = clean
    merged = {}
    hamlets = []
    for p in parsed:
        if p.hamlet is None:
            hamlets.append(None)
            continue
        name = chosen.get(fold(p.hamlet), p.hamlet)
        if name != p.hamlet:
            merged[p.hamlet] = name
        hamlets.append(name)
    out = pd.DataFrame(
        {
            "hamlet": pd.Series(hamlets, dtype=object),
            "place": pd.Series([p.place for p in parsed], dtype=object),
            "place_kind": pd.Series([p.kind for p in parsed], dtype=object),
            "place_commune": pd.Series([p.commune for p in parsed], dtype=object),
        }
    )
    out.attrs["merged"] = merged
    out.attrs["unitless"] = sorted({p.hamlet for p in parsed if p.kind == "khong_ro"})
    out.attrs["non_hamlet"] = {p.place: p.kind for p in parsed if not p.is_hamlet and p.place}
    return out


_NUMBER = re.compile(r"^(?:\d+[a-z]?|[ivxlc]+)$", re.IGNORECASE)


def _without_commune_tail(parsed: list) -> list:
    """Numbered hamlets written with their commune's name after them, without it.

    "Xóm 1 Nghi Phong", "Xóm 2 Nghi Phong": when every numbered hamlet that has words
    after its number has the same ones (two syllables or more, no number, no unit or
    field word), and two hamlets at least do, those words are the commune's name, not
    the hamlet's: "Xóm 1", commune "Nghi Phong"; a named hamlet of the same texts ending
    in them too ("Xóm Đông Nghi Phong": "Xóm Đông"). Named hamlets alone ("Thôn Đông
    Sơn Thủy", "Thôn Tây Sơn Thủy") and a tail that differs between numbered hamlets
    ("Tổ 1 Khu 2", "Tổ 1 Khu 3") are left as written.
    """
    tails: dict[str, set] = {}
    for p in parsed:
        words = (p.name or "").split(" ")
        if p.kind == "thon_xom" and len(words) > 1 and _NUMBER.match(words[0]):
            tails.setdefault(fold(" ".join(words[1:])), set()).add(fold(words[0]))
    if len(tails) != 1:
        return parsed
    ((tail, numbers),) = tails.items()
    words = tail.split(" ")
    leading = {fold(w) for w in (*UNIT_WORDS, *NON_HAMLET_WORDS, *_COMMUNE_WORDS.values())}
    if (len(numbers) < 2 or len(words) < 2 or any(c.isdigit() for c in tail)
            or any(" ".join(words[:k]) in leading for k in (1, 2, 3))):  # fmt: skip
        return parsed
    out = []
    size = len(words)
    for p in parsed:
        words = (p.name or "").split(" ")
        # the numbered hamlets, and a named one of the same file written the same way
        # ("Xóm Đông Nghi Phong" beside "Xóm 1 Nghi Phong"): the tail is the commune's
        if (p.kind == "thon_xom" and len(words) > size
                and fold(" ".join(words[-size:])) == tail):  # fmt: skip
            name = " ".join(words[:-size])
            hamlet = f"{p.unit} {name}"
            p = dataclasses.replace(p, name=name, hamlet=hamlet, place=hamlet,
                                    commune=p.commune or " ".join(words[-size:]))  # fmt: skip
        out.append(p)
    return out


def _few(items, n: int = 5) -> str:
    items = list(items)
    text = ", ".join(f"'{x}'" for x in items[:n])
    return _say("places.and_more", shown=text, more=len(items) - n) if len(items) > n else text


def _as_written(table: pd.DataFrame, texts, layer_names) -> None:
    """A hamlet column wins as written: cleaned and merged, no field taken out of it."""
    written = [clean_text(v) if isinstance(v, str) and v.strip() else None for v in texts]
    chosen = {}
    for v in written:
        if v:
            chosen.setdefault(fold(v), v)
    for name in layer_names:
        chosen[fold(name)] = name
    table["hamlet"] = [chosen.get(fold(v), v) if v else None for v in written]
    table["place_kind"] = ["thon_xom" if v else "trong" for v in written]
    table.attrs["non_hamlet"] = {}
    table.attrs["unitless"] = []
    table.attrs["merged"] = {v: chosen[fold(v)] for v in written if v and chosen[fold(v)] != v}


def _place_by_layer(out, table: pd.DataFrame, hamlets, layer_names) -> int:
    """Hamlets from the hamlet layer; returns how many parcels were placed by location.

    The layer's names win; a parcel whose hamlet is not one of them takes the polygon its
    representative point lies in.
    """
    names = set(layer_names)
    keyed = {hamlet_key(n): n for n in layer_names}
    fixed = table["hamlet"].map(lambda n: n if n in names else keyed.get(hamlet_key(n)))
    lost = fixed.isna() & table["place_kind"].map(is_hamlet_kind)
    lost &= out.geometry.notna().to_numpy() & ~out.geometry.is_empty.to_numpy()
    moved = 0
    if lost.any():
        import geopandas as gpd

        layer = hamlets[["hamlet", "geometry"]].copy()
        if layer.crs is not None and out.crs is not None:
            layer = layer.to_crs(out.crs)
        points = gpd.GeoDataFrame(geometry=out.geometry[lost].representative_point(), crs=out.crs)
        hit = gpd.sjoin(points, layer, how="left", predicate="within")
        hit = hit[~hit.index.duplicated()]["hamlet"]
        fixed.loc[hit.index] = hit.map(lambda n: clean_text(n) if isinstance(n, str) else None)
        moved = int(hit.notna().sum())
    keep = table["hamlet"].isna() | fixed.notna()
    table["hamlet"] = fixed.where(fixed.notna(), table["hamlet"]).where(keep, table["hamlet"])
    return moved


def _hamlet_summary(n_hamlets, source, source_column, moved, non, merged) -> str:
    """How the hamlets were found, in a sentence (kept in ``attrs["hamlet_summary"]``).

    In the language in force (the run summary and ``ntmgis survey-form`` print it).
    """
    column = source_column or "DIADANH"
    summary = _say(f"places.summary.{source}", count=n_hamlets, column=column)
    if moved:
        summary += _say("places.summary.moved", count=moved)
    if len(non):
        places = ", ".join(
            _say("places.summary.parcels", place=p, count=n) for p, n in non.value_counts().items()
        )
        summary += _say("places.summary.non_hamlet", places=places)
    if merged:
        summary += _say("places.summary.merged", count=len(merged))
    return summary


def _warn_hamlets(table: pd.DataFrame, non, where, source, again) -> None:
    """Say what was merged, kept whole or left out of the hamlets (once each)."""
    if table.attrs["merged"]:
        pairs = [f"'{a}' → '{b}'" for a, b in table.attrs["merged"].items()]
        shown = ", ".join(pairs[:8]) + (" ..." if len(pairs) > 8 else "")
        warn(
            _say("warning.places.spelling_merged", where=where, count=len(pairs), pairs=shown),
            ParcelWarning,
            where=where,
            what="warning.places.spelling_merged",
        )
    if table.attrs["unitless"] and source == "place_text" and not again:
        unitless = table.attrs["unitless"]
        warn(
            _say(
                "warning.places.no_unit_word",
                where=where,
                count=len(unitless),
                names=_few(unitless),
            ),
            ParcelWarning,
            where=where,
            what="warning.places.no_unit_word",
        )
    if len(non) and not again:
        warn(
            _say(
                "warning.places.non_hamlet_place",
                where=where,
                count=len(non),
                places=_few(non.unique()),
            ),
            ParcelWarning,
            where=where,
            what="warning.places.non_hamlet_place",
        )


def assign_hamlets(parcels, *, hamlets=None, source_column: str | None = None, where="parcels"):
    """Give every parcel its hamlet, and say how the hamlets were found.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame or pandas.DataFrame
        Parcels with a ``hamlet`` column holding the source's text (from
        :func:`ntmgis.read_parcels`: the DIADANH or the hamlet column).
    hamlets : GeoDataFrame, optional
        A hamlet layer (``hamlet`` names and polygons). It wins: a parcel whose parsed
        hamlet is not one of its names takes the hamlet its representative point lies in.
    source_column : str, optional
        The source column the ``hamlet`` text came from. A column that names hamlets
        (``Thôn``, ``hamlet``, ``ten_thon``...) wins as it is written (only cleaned and
        merged); a place column (``DIADANH``) is parsed.
    where : str
        What the parcels are, for messages.

    Returns
    -------
    same type as ``parcels``
        A copy with ``hamlet`` (None for parcels in a place that is not a hamlet),
        ``place`` (the place text's first part), ``place_kind`` (a key of
        :data:`PLACE_KINDS`) and ``place_commune``. ``attrs["hamlet_source"]`` is one of
        ``layer``, ``column``, ``place_text``, ``none``; ``attrs["hamlet_summary"]``
        says in a sentence how the hamlets were found.
    """
    out = parcels.copy()
    texts = out["hamlet"] if "hamlet" in out else pd.Series(None, index=out.index, dtype=object)
    again = "place_kind" in out  # parsed before (read_parcels): a field keeps its place
    if again and "place" in out:
        texts = texts.where(texts.notna(), out["place"])
    column = fold(source_column or "diadanh").replace(" ", "_")
    layer_names = []
    if hamlets is not None and "hamlet" in hamlets:
        layer_names = [clean_text(h) for h in hamlets["hamlet"] if isinstance(h, str)]
    table = normalise_hamlets(texts.tolist(), official=layer_names, where=where)
    table.index = out.index
    # a hamlet column is taken as written, unless its texts are whole addresses
    explicit = column not in _PLACE_COLUMNS and not table["place_commune"].notna().any()
    if explicit:
        _as_written(table, texts, layer_names)
    source = "column" if explicit else "place_text"
    moved = 0
    if layer_names and hasattr(out, "geometry"):
        moved = _place_by_layer(out, table, hamlets, layer_names)
        source = "layer"
    if not texts.notna().any() and not layer_names:
        source = "none"
    out["hamlet"] = table["hamlet"].astype(object)
    if again and "place_commune" in out:
        table["place_commune"] = table["place_commune"].where(
            table["place_commune"].notna(), out["place_commune"]
        )
    for col in ("place", "place_kind", "place_commune"):
        out[col] = table[col].astype(object)

    non = out.loc[~out["place_kind"].map(is_hamlet_kind), "place"]
    summary = _hamlet_summary(
        out["hamlet"].dropna().nunique(), source, source_column, moved, non, table.attrs["merged"]
    )
    out.attrs = dict(parcels.attrs)
    out.attrs["hamlet_source"] = source
    out.attrs["hamlet_summary"] = summary
    out.attrs["hamlet_merged"] = dict(table.attrs["merged"])
    out.attrs["non_hamlet_places"] = {p: int(n) for p, n in non.value_counts().items()}
    _warn_hamlets(table, non, where, source, again)
    logger.info("%s: %s", where, summary)
    return out
