"""The core's messages (config, CRS, sample, result, pipeline, province runs) come from
the one catalogue, Vietnamese first (issues 19, 21): both languages, same fields, plain
Vietnamese with its diacritics, and the CLI shows each warning once, in the language the
user chose (``--lang`` or ``LANG``)."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

import ntmgis.config
import ntmgis.crs
import ntmgis.distributed
import ntmgis.operations
import ntmgis.pipeline
import ntmgis.result
import ntmgis.sample  # noqa: F401  (each module registers its messages on import)
from ntmgis.config import load_communes, load_config
from ntmgis.errors import ConfigError
from ntmgis.i18n import CATALOGUE, language, message, say

ROOT = Path(__file__).resolve().parents[1]
CORE_PREFIXES = (
    "error.config.", "error.crs.", "error.sample.", "error.result.", "error.pipeline.",
    "error.distributed.", "error.operations.", "warning.crs.", "warning.pipeline.",
    "config.", "crs.", "distributed.",
)  # fmt: skip
CORE_KEYS = sorted(k for k in CATALOGUE if k.startswith(CORE_PREFIXES))
VIETNAMESE = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")


def test_the_core_registers_its_messages():
    assert len(CORE_KEYS) >= 50
    for key in ("error.config.unknown_key", "error.crs.no_crs", "warning.crs.local_vn2000",
                "warning.pipeline.block_error", "distributed.summary"):  # fmt: skip
        assert key in CORE_KEYS


@pytest.mark.parametrize("key", CORE_KEYS)
def test_each_message_is_vietnamese_nfc_and_differs_from_english(key):
    vi, en = CATALOGUE[key]["vi"], CATALOGUE[key]["en"]
    assert unicodedata.normalize("NFC", vi) == vi
    assert vi != en
    # '[imagery] source trong {where}: {detail}', '[{section}] {key} trong {where}': their
    # fields are said in the catalogue's own words ("trong" is Vietnamese without a mark)
    plain = {"error.config.bad_source", "config.at"}
    assert set(vi.lower()) & VIETNAMESE or (key in plain and " trong " in vi), vi


def _write(tmp_path, text):
    path = tmp_path / "xa.toml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = '[inputs]\nparcels = "{p}"\nimagery = "{s}"\n'


@pytest.mark.parametrize(
    "extra, vi_words, en_words",
    [
        ("[outputs]\nfolder = 'x'\n",
         ["tệp cấu hình '", "mục [outputs]: không có khóa 'folder'", "dir, name, maps"],
         ["Unknown key 'folder' in [outputs]", "dir, name, maps"]),
        ("[flags]\ncalibration = 'always'\n",
         ["[flags] calibration trong tệp cấu hình", "auto, rules", "'always'"],
         ["[flags] calibration in config", "must be one of auto, rules, not 'always'"]),
        ("[imagery]\nmin_valid = 'cao'\n",
         ["[imagery] min_valid trong tệp cấu hình", "phải là một số, không phải 'cao'"],
         ["[imagery] min_valid in config", "must be a number, not 'cao'"]),
        ("[flags]\nmax_visit_share = 15\n",
         ["[flags] max_visit_share trong", "khoảng 0 đến 1", "không phải 15"],
         ["[flags] max_visit_share in", "between 0 and 1", "not 15"]),
    ],
)  # fmt: skip
def test_config_errors_name_the_key_the_file_and_the_allowed_values(
    tmp_path, layers_dir, extra, vi_words, en_words
):
    text = BASE.format(p=(layers_dir / "thanh_binh.gpkg").as_posix(),
                       s=(layers_dir / "s2").as_posix()) + extra  # fmt: skip
    path = _write(tmp_path, text)
    for lang, words, other in (("vi", vi_words, en_words), ("en", en_words, vi_words)):
        with language(lang), pytest.raises(ConfigError) as caught:
            load_config(path)
        said = str(caught.value)
        assert said.startswith(words[0]), (lang, said)  # the chosen language first
        assert str(path) in said  # the file
        for word in words:
            assert word in said, (lang, said)
        assert other[0] in said  # then the other language, for a log or a forum


def test_a_province_config_error_is_said_in_the_chosen_language(tmp_path):
    prov = tmp_path / "tinh.toml"
    prov.write_text('[province]\ncommunes = ["khong_co_*/xa.toml"]\n', encoding="utf-8")
    with language("vi"), pytest.raises(ConfigError) as caught:
        load_communes(prov)
    assert str(caught.value).startswith("[province] communes trong tệp cấu hình")
    assert "không khớp tệp nào" in str(caught.value)


def test_say_gives_the_chosen_language_first():
    with language("en"):
        en = say("error.crs.utm_zone", zone=50)
    with language("vi"):
        vi = say("error.crs.utm_zone", zone=50)
    assert en.startswith("VN-2000 UTM zone 50 does not exist") and "Không có múi UTM 50" in en
    assert vi.startswith("Không có múi UTM 50 của VN-2000") and en != vi
    assert message("error.crs.utm_zone", lang="vi", zone=50) == vi.split(" (")[0]


def _local_config(sample, tmp_path: Path) -> Path:
    """The small sample with its parcels shifted as a 'local' VN-2000 file is."""
    import geopandas as gpd

    parcels = gpd.read_file(sample.root / "thanh_binh.gpkg", layer="parcels")
    centre = parcels.to_crs(4326).geometry.union_all().centroid
    ex, ey = ntmgis.crs.local_vn2000_offset(centre.x, centre.y, crs=parcels.crs)
    path = tmp_path / "local.gpkg"
    parcels.set_geometry(parcels.geometry.translate(ex, ey)).to_file(
        path, layer="parcels", engine="pyogrio"
    )
    text = (sample.root / "thanh_binh.toml").read_text("utf-8")
    for key in ("survey", "imagery", "targets"):
        text = text.replace(f'{key} = "', f'{key} = "{sample.root.as_posix()}/')
    text = text.replace('parcels = "thanh_binh.gpkg"', f'parcels = "{path.as_posix()}"')
    text = text.replace('hamlets = "thanh_binh.gpkg"',
                        f'hamlets = "{(sample.root / "thanh_binh.gpkg").as_posix()}"')  # fmt: skip
    text = text.replace('dir = "../out"', f'dir = "{(tmp_path / "out").as_posix()}"')
    text = text.replace("maps = true", "maps = false").replace("report = true", "report = false")
    config = tmp_path / "local.toml"
    config.write_text(text, "utf-8")
    return config


def test_cli_warnings_one_line_each_in_the_language_of_lang(small_sample, tmp_path):
    config = _local_config(small_sample, tmp_path)
    env = {k: v for k, v in os.environ.items()
           if k not in ("NTMGIS_LANG", "LC_ALL", "LC_MESSAGES", "LANG")}  # fmt: skip
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    said = {}
    for lang, locale in (("en", "en_US.UTF-8"), ("vi", "vi_VN.UTF-8")):
        done = subprocess.run(
            [sys.executable, "-m", "ntmgis", "-q", "run", str(config)],
            env={**env, "LANG": locale}, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        said[lang] = [line for line in done.stderr.splitlines() if line.strip()]
    en = [line for line in said["en"] if "VN-2000" in line]
    vi = [line for line in said["vi"] if "VN-2000" in line]
    assert len(en) == 1 and len(vi) == 1  # the CRS warning: once, on one line
    assert en[0].startswith("Warning: Parcels '") and "local.gpkg': The coordinate" in en[0]
    assert "moved onto true VN-2000" in en[0]
    assert vi[0].startswith("Cảnh báo: Thửa đất '") and "local.gpkg': Hệ tọa độ (CRS)" in vi[0]
    assert "đã được dịch về VN-2000 chuẩn" in vi[0]
    assert all(line.startswith("Warning") for line in said["en"])
    assert all(line.startswith("Cảnh báo") for line in said["vi"])


def test_message_language_forms_and_text_fields_say_the_same():
    from ntmgis.i18n import Text, message

    assert message("output.written", lang="vi", path="a.gpkg") == "Đã ghi a.gpkg"
    assert message("output.written", lang="vi_VN.UTF-8", path="a.gpkg") == "Đã ghi a.gpkg"
    assert message("output.written", lang="en-GB", path="a.gpkg") == "Wrote a.gpkg"
    inner = Text("output.written", path="b.csv")
    assert message("output.written", lang="en", path=inner) == "Wrote Wrote b.csv"
    assert message("output.written", lang="vi", path=inner) == "Đã ghi Đã ghi b.csv"


def test_a_file_is_named_in_the_language_of_the_message(tmp_path):
    """'tệp khảo sát' in Vietnamese, 'Survey file' in English: never the English words
    inside the Vietnamese sentence."""
    from ntmgis.errors import DataNotFoundError, InputError
    from ntmgis.progress import read_targets
    from ntmgis.survey import read_survey

    with language("vi"), pytest.raises(DataNotFoundError) as got:
        read_survey(tmp_path / "khong_co.xlsx")
    missing = tmp_path / "khong_co.xlsx"
    assert str(got.value).startswith(f"Không tìm thấy tệp khảo sát '{missing}'")
    assert f"(Survey file not found: '{missing}'" in str(got.value)
    empty = tmp_path / "chi_tieu.csv"
    empty.write_bytes(b"")
    with language("en"), pytest.raises(InputError) as got:
        read_targets(empty)
    assert str(got.value) == (
        f"Targets table '{empty}' is empty: export it again. "
        f"(Tệp '{empty}' (bảng chỉ tiêu) trống: hãy xuất lại tệp.)"
    )
