"""Vietnamese text: NFC, folding, tone placement, TCVN3/VNI/cp1258, header aliases."""

import unicodedata

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ntmgis import text as T


@pytest.fixture(autouse=True)
def _english():
    """Messages in English: these tests match the English sentences (vi: see below)."""
    from ntmgis.i18n import set_language

    set_language("en")
    yield
    set_language(None)


# Hand-written expected strings: what the legacy fonts show when the bytes are read as
# Latin-1 / cp1252, and the Unicode they stand for.
TCVN3_CASES = [
    ("Th«n §«ng Hßa", "Thôn Đông Hòa"),
    ("NguyÔn V¨n Hßa", "Nguyễn Văn Hòa"),
    ("V\xadên hoang hãa", "Vườn hoang hóa"),
    ("ViÖt Nam", "Việt Nam"),
    ("Hµ TÜnh", "Hà Tĩnh"),
    ("c©y gièng, vèn, kü thuËt", "cây giống, vốn, kỹ thuật"),
    ("Thñy", "Thủy"),
]
VNI_CASES = [
    ("Thoân Ñoâng Hoøa", "Thôn Đông Hòa"),
    ("Nguyeãn Vaên Hoøa", "Nguyễn Văn Hòa"),
    ("Vöôøn hoang hoùa", "Vườn hoang hóa"),
    ("Vieät Nam", "Việt Nam"),
    ("Haø Tónh", "Hà Tĩnh"),
    ("ÑAËNG THÒ HOÀNG", "ĐẶNG THỊ HỒNG"),
    ("Leâ Thò AÙnh", "Lê Thị Ánh"),
]


@pytest.mark.parametrize(("legacy", "expected"), TCVN3_CASES)
def test_tcvn3_to_unicode(legacy, expected):
    assert T.tcvn3_to_unicode(legacy) == expected
    assert T.detect_encoding(legacy) == "tcvn3"
    assert T.repair_text(legacy) == expected
    # the bytes a .VnTime file holds
    assert T.unicode_to_tcvn3(expected).encode("latin-1") == legacy.encode("latin-1")


@pytest.mark.parametrize(("legacy", "expected"), VNI_CASES)
def test_vni_to_unicode(legacy, expected):
    assert T.vni_to_unicode(legacy) == expected
    assert T.detect_encoding(legacy) == "vni"
    assert T.repair_text(legacy) == expected
    assert T.unicode_to_vni(expected) == legacy


def test_vni_table_is_complete_and_reversible():
    # 134 Vietnamese letters with diacritics (67 lower + 67 upper case)
    assert len(T._VNI_ENCODE) == 134
    assert len(T._TCVN3_DECODE) == 74  # 67 lower-case letters + 7 upper-case
    for letter, code in T._VNI_ENCODE.items():
        assert T.vni_to_unicode(code) == letter


def test_unicode_text_is_left_alone():
    for _, good in TCVN3_CASES + VNI_CASES:
        assert T.detect_encoding(good) == "unicode"
        assert T.repair_text(good) == good
    assert T.detect_encoding("SHBANDO 12") == "ascii"


def test_utf8_read_as_latin1_is_repaired():
    mojibake = "Thôn Đông Hòa".encode().decode("latin-1")
    assert T.detect_encoding(mojibake) == "utf8-as-latin1"
    assert T.repair_text(mojibake) == "Thôn Đông Hòa"


def test_nfd_becomes_nfc():
    decomposed = unicodedata.normalize("NFD", "Vườn hoang hóa")
    assert decomposed != "Vườn hoang hóa"
    assert T.repair_text(decomposed) == "Vườn hoang hóa"
    assert T.nfc(decomposed) == "Vườn hoang hóa"


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("utf-8-sig", lambda s: s.encode("utf-8-sig")),
        ("utf-8", lambda s: s.encode("utf-8")),
        ("cp1258", T.encode_cp1258),
        ("tcvn3", lambda s: T.unicode_to_tcvn3(s).encode("latin-1")),
        ("vni", lambda s: T.unicode_to_vni(s).encode("cp1252")),
    ],
)
def test_decode_bytes(encoding, encode):
    content = "Số tờ,Số thửa,Thôn,Phân loại vườn\n12,345,Thôn Đông Hòa,Vườn hoang hóa\n"
    text, used = T.decode_bytes(encode(content))
    assert used == encoding
    assert text == content


def test_cp1258_uses_combining_tones():
    raw = T.encode_cp1258("Hòa")
    assert raw == b"Ho\xcca"  # o + U+0300 (cp1258 0xCC) + a
    assert T.decode_bytes(raw) == ("Hòa", "cp1258")


def test_mixed_column_is_reported():
    values = pd.Series(["Thôn Đông Hòa", T.unicode_to_tcvn3("Thôn Tây Sơn"), "Thôn Bắc"])
    repaired, info = T.repair_column(values, column="DIADANH", source="x.shp", first_row=2)
    assert list(repaired) == ["Thôn Đông Hòa", "Thôn Tây Sơn", "Thôn Bắc"]
    assert info["mixed"]
    assert info["encodings"] == {"unicode": 2, "tcvn3": 1}
    assert info["rows"]["tcvn3"] == [3]
    assert "DIADANH" in info["message"] and "x.shp" in info["message"]


def test_one_legacy_column_is_not_mixed():
    values = [T.unicode_to_vni(s) for s in ("Thôn Đông Hòa", "Thôn Tây Sơn")] + [None, "T1"]
    repaired, info = T.repair_column(values, column="DIADANH")
    assert repaired == ["Thôn Đông Hòa", "Thôn Tây Sơn", None, "T1"]
    assert not info["mixed"]
    assert "vni" in info["message"]


def test_tone_placement_and_cleaning():
    assert T.normalise_tone_placement("Hoà Bình") == "Hòa Bình"
    assert T.normalise_tone_placement("hoá") == "hóa"
    assert T.normalise_tone_placement("thuỷ lợi") == "thủy lợi"
    assert T.normalise_tone_placement("khoẻ") == "khỏe"
    # no change where both styles agree
    for word in ("hoàng", "quý", "mùa", "của", "hòa"):
        assert T.normalise_tone_placement(word) == word
    assert T.clean_text("  Vườn   hoang  hoá ") == "Vườn hoang hóa"
    assert T.clean_text("   ") is None
    assert T.clean_text(12) == 12


def test_fold_and_header_key():
    assert T.fold("  Vườn   HOANG hoá ") == "vuon hoang hoa"
    assert T.fold("Đông Hòa") == T.fold("dong hoa") == T.fold("DONG HOÀ")
    assert T.fold(None) == "" and T.fold(float("nan")) == ""
    assert T.header_key("Số tờ") == T.header_key("so_to") == T.header_key("SO TO") == "soto"
    assert T.header_key("Diện tích vườn (m²)") == "dientichvuonm2"


def test_syllables():
    for word in ("người", "nguyễn", "khuỷu", "quyết", "giữa", "hoàng", "xoong", "Ánh"):
        assert T.is_vietnamese_syllable(word), word
    for word in ("ngươì", "cuả", "gìa", "aùnh", "Leâ", "quũ", "hoaì"):
        assert not T.is_vietnamese_syllable(word), word


def test_match_columns():
    aliases = {"sheet": ["SHBANDO", "Số tờ"], "parcel_no": ["SHTHUA", "Số thửa"]}
    assert T.match_columns(["so_to", "SO THUA", "x"], aliases) == {
        "sheet": "so_to",
        "parcel_no": "SO THUA",
    }
    assert T.match_columns(["Tờ", "Thửa"], aliases, overrides={"sheet": "tờ"}) == {"sheet": "Tờ"}
    with pytest.raises(KeyError):
        T.match_columns(["a"], aliases, overrides={"sheet": "nope"})


VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
)


@given(st.text(alphabet=VIETNAMESE + " ", min_size=1, max_size=30))
def test_legacy_round_trip(value):
    assert T.vni_to_unicode(T.unicode_to_vni(value)) == value
    assert T.tcvn3_to_unicode(T.unicode_to_tcvn3(value)) == value


def test_docstring_examples():
    import doctest

    import ntmgis.crs
    import ntmgis.text

    for module in (ntmgis.text, ntmgis.crs):
        result = doctest.testmod(module, raise_on_error=False)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_repair_column_decides_once_per_distinct_value_and_keeps_every_row(monkeypatch):
    import ntmgis.text as text

    values = ["NguyÔn V¨n Hßa", "Vãn", "Th«n §«ng", None, "Vãn", "Lµ", "Th«n §«ng", "Vãn",
              "Ph¹m", "Hµ", "abc", "Thµnh"]  # fmt: skip
    seen = []
    detect = text.detect_encoding
    monkeypatch.setattr(text, "detect_encoding", lambda v: seen.append(v) or detect(v))
    repaired, info = text.repair_column(values, column="ten", source="f.gpkg", first_row=2)
    assert sorted(seen) == sorted(set(v for v in values if v is not None))  # 8, once each
    # TCVN3 holds 7 of the 10 non-ASCII values: "Vãn" (valid Unicode alone) is read as
    # TCVN3 too, at each of its three rows (indexes 1, 4, 7 -> rows 3, 6, 9)
    assert repaired == ["Nguyễn Văn Hòa", "Vón", "Thôn Đông", None, "Vón", "Là", "Thôn Đông",
                        "Vón", "Phạm", "Hà", "abc", "Thành"]  # fmt: skip
    assert info["encodings"] == {"tcvn3": 10} and not info["mixed"]
    assert info["rows"] == {"tcvn3": [2, 4, 7, 8, 10], "unicode": [3, 6, 9]}
    # what the column holds first, then the values read like it, in one readable text
    assert info["message"] == (
        "column 'ten' of 'f.gpkg': 10 value(s) in the legacy TCVN3 (ABC) encoding [tcvn3] "
        "converted to Unicode. 3 of them, which alone looked like another encoding, were "
        "read like the rest of the column, e.g. row(s) 3, 6, 9."
    )
    from ntmgis import i18n

    with i18n.language("vi"):
        _, info = text.repair_column(values, column="ten", source="f.gpkg", first_row=2)
    assert info["warning"] == (
        "cột 'ten' của 'f.gpkg': 10 giá trị viết bằng bảng mã cũ TCVN3 (ABC) [tcvn3] đã được "
        "chuyển sang Unicode. 3 giá trị trong đó, riêng từng giá trị thì trông như bảng mã "
        "khác, được đọc theo bảng mã của cả cột, ví dụ dòng 3, 6, 9."
    )
