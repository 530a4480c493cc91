"""A command line for people: one line per warning, messages in vi/en, exit codes."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
from pathlib import Path

import click
import pytest

from ntmgis import i18n
from ntmgis._progress import report
from ntmgis.cli import COMMANDS, EXIT_BUG, EXIT_ERROR, EXIT_USAGE, main
from ntmgis.cli._common import SETTINGS, WarningDisplay, progress_bar
from ntmgis.errors import ConfigError, ImageryWarning, SurveyWarning, warn

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _language():
    yield
    i18n.set_language(None)
    SETTINGS.update(quiet=False, verbose=0)


def test_each_warning_once_as_one_line_repeats_counted():
    out = io.StringIO()
    with WarningDisplay(out, lang="vi"):
        for scene in ("S2A_1", "S2A_2", "S2A_2", "S2A_3", "S2A_4", "S2A_5"):
            warn(f"Scene {scene}\nhas no clear pixel.", ImageryWarning, what="cloudy_scene")
        warn("Row 12: unknown class 'Vườn hoag hóa'.", SurveyWarning)
        warn("Row 12: unknown class 'Vườn hoag hóa'.", SurveyWarning)
        # one kind, two files: both said (the second was hidden behind the first's count)
        for path in ("khao_sat_2020.xlsx", "khao_sat_2022.xlsx"):
            warn(f"{path}: 1 unknown class at row 463.", SurveyWarning, what="unknown_class")
        warnings.warn("a library's own warning", RuntimeWarning, stacklevel=1)
    lines = out.getvalue().splitlines()
    assert lines == [
        "Cảnh báo: Scene S2A_1 has no clear pixel.",
        "Cảnh báo: Scene S2A_2 has no clear pixel.",
        "Cảnh báo: Scene S2A_3 has no clear pixel.",
        "Cảnh báo: Row 12: unknown class 'Vườn hoag hóa'.",
        "Cảnh báo: khao_sat_2020.xlsx: 1 unknown class at row 463.",
        "Cảnh báo: khao_sat_2022.xlsx: 1 unknown class at row 463.",
        "Cảnh báo: a library's own warning",
        "Cảnh báo (×6 cùng loại, 3 chưa hiện ở trên): Scene S2A_1 has no clear pixel.",
        "Cảnh báo (×2 cùng loại, 1 chưa hiện ở trên): Row 12: unknown class 'Vườn hoag hóa'.",
    ]
    assert ".py" not in out.getvalue()
    # the display restores Python's own warning machinery afterwards
    with pytest.warns(SurveyWarning):
        warn("after", SurveyWarning)


def test_known_kinds_are_said_in_the_language_in_force():
    out = io.StringIO()
    with WarningDisplay(out, lang="vi"):
        warn("Scene X (2020-10-04) has no clear pixel (fully cloudy).", ImageryWarning,
             where="S2A_48QWE_20201004", what="cloudy_scene")  # fmt: skip
    assert out.getvalue() == (
        "Cảnh báo: S2A_48QWE_20201004: không có điểm ảnh quang mây nào trên xã; "
        "giữ lại như một ngày không có dữ liệu.\n"
    )


def test_english_prefix():
    out = io.StringIO()
    with WarningDisplay(out, lang="en"):
        warn("Parcel 12-345: empty geometry kept.", ImageryWarning)
    assert out.getvalue() == "Warning: Parcel 12-345: empty geometry kept.\n"


def test_stage_names_come_from_the_catalogue():
    """Every stage name the library reports has its vi/en sentence; the bar shows that."""
    import re

    found = set()
    for path in (ROOT / "ntmgis").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'report\(progress, [^,]+, "([^"]+)"\)', source))
        found |= {m + "x" for m in re.findall(r'report\(progress, [^,]+, f"([^"{]+)\{', source)}
    assert {"parcels", "flags", "writing GeoPackage", "Reading parcels", "report"} <= found
    missing = {text for text in found if i18n.stage_key(text) is None}
    assert missing == set()
    for key in set(i18n.STAGES.values()):
        assert i18n.CATALOGUE[key]["vi"] and i18n.CATALOGUE[key]["en"]
    assert i18n.stage("flags", lang="vi") == "Đánh giá vườn"
    assert i18n.stage("writing GeoPackage", lang="en") == "Writing the GeoPackage"
    assert i18n.stage("Reading S2A_48QWE_20200113_0_L2A", lang="vi") == (
        "Đọc S2A_48QWE_20200113_0_L2A"
    )
    assert i18n.stage("Thôn Đông Hòa", lang="en") == "Thôn Đông Hòa"  # not a stage
    # the library itself passes its own stable names (code may match on them)
    seen = []
    report(lambda f, m: seen.append(m), 0.6, "flags")
    assert seen == ["flags"]


def test_the_bar_shows_the_stage_names(monkeypatch):
    """On a terminal the bar's text is the catalogue's name of the current stage."""
    shown = []

    class Bar:
        def __init__(self, **kw):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def update(self, n, item=None):
            shown.append(item)

    monkeypatch.setattr(click, "progressbar", lambda **kw: Bar(**kw))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    i18n.set_language("vi")
    with progress_bar("ntmgis run") as progress:
        for fraction, name in ((0.0, "parcels"), (0.62, "flags"), (0.8, "progress report")):
            progress(fraction, name)
    assert [s for s in shown if s] == ["Đọc thửa đất", "Đánh giá vườn", "Viết báo cáo"]


def test_quiet_draws_no_bar(capsys):
    SETTINGS["quiet"] = True
    with progress_bar("ntmgis run") as progress:
        assert progress(0.5, "flags") is None
    assert capsys.readouterr().err == ""


def _exit_code(args, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["ntmgis", *args])
    with pytest.raises(SystemExit) as exc:
        main(args)
    return exc.value.code, capsys.readouterr().err


def boom():  # a command with a bug in it
    return 1 / 0


def refuse():
    raise ConfigError("[inputs] parcels in config 'x.toml' is required.")


def test_exit_codes_and_one_line_errors(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(COMMANDS, "boom", "test_print_cli:boom_cmd")
    monkeypatch.setitem(COMMANDS, "refuse", "test_print_cli:refuse_cmd")
    code, err = _exit_code(["--lang", "vi", "refuse"], monkeypatch, capsys)
    assert code == EXIT_ERROR == 1
    assert err.strip() == "ntmgis: Lỗi: [inputs] parcels in config 'x.toml' is required."
    code, err = _exit_code(["--lang", "en", "boom"], monkeypatch, capsys)
    assert code == EXIT_BUG == 70
    assert err.count("\n") == 1 and "ZeroDivisionError" in err and "-v" in err
    assert "Traceback" not in err
    code, err = _exit_code(["--lang", "en", "-v", "boom"], monkeypatch, capsys)
    assert code == 70 and "Traceback" in err  # -v shows where the bug is
    code, err = _exit_code(["run", "--no-such-option"], monkeypatch, capsys)
    assert code == EXIT_USAGE == 2


boom_cmd = click.command("boom")(boom)
refuse_cmd = click.command("refuse")(refuse)


def test_language_from_lang_environment(tmp_path):
    """The console entry point, as a person runs it: LANG picks the language."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[inputs]\nimagery = 's2'\n", encoding="utf-8")
    for lang, prefix in (("vi_VN.UTF-8", "ntmgis: Lỗi: "), ("en_US.UTF-8", "ntmgis: Error: ")):
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "LANG": lang}
        run = subprocess.run([sys.executable, "-m", "ntmgis", "run", str(bad)],
                             capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
        assert run.returncode == 1, run.stderr
        assert run.stderr.startswith(prefix) and run.stderr.count("\n") == 1
        assert "parcels" in run.stderr
