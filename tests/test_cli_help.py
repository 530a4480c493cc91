"""The commands' help in the user's language (ntmgis.cli.localise, ntmgis.cli._help_vi)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from ntmgis.cli import COMMANDS, cli
from ntmgis.cli._help_vi import HELP_VI


@pytest.fixture(autouse=True)
def _language_back():
    from ntmgis.i18n import set_language

    yield
    set_language(None)


def _options(name: str) -> set[str]:
    command = cli.get_command(click.Context(cli), name)
    return {p.name for p in command.params if isinstance(p, click.Option)}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_and_option_has_its_vietnamese_help(name):
    """A new option without its Vietnamese sentence (or a sentence left for an option
    that is gone) fails here, so the help never falls back to English unsaid."""
    texts = HELP_VI[name]
    assert texts[""].strip()
    assert set(texts) - {""} == _options(name)
    assert all(t.strip() and t.strip() != t.strip().upper() for t in texts.values())


def test_help_said_in_the_language_chosen_and_back_again():
    runner = CliRunner()
    vi = runner.invoke(cli, ["--lang", "vi", "run", "--help"], prog_name="ntmgis")
    assert vi.exit_code == 0, vi.output
    assert vi.output.startswith("Cách dùng: ntmgis run [OPTIONS] [CONFIG]")
    assert "Tùy chọn:" in vi.output and "Options:" not in vi.output
    assert "Chạy cả chuỗi cho một xã" in vi.output
    assert "Số lần kiểm tra thực địa mỗi thôn làm được" in vi.output
    assert "Hiện hướng dẫn này rồi thoát." in vi.output
    assert "Output folder" not in vi.output

    # the same command objects, now in English: nothing of the Vietnamese stays
    en = runner.invoke(cli, ["--lang", "en", "run", "--help"], prog_name="ntmgis")
    assert en.exit_code == 0, en.output
    assert en.output.startswith("Usage: ntmgis run [OPTIONS] [CONFIG]")
    assert "Run the whole chain on a commune" in en.output
    assert "Field visits each hamlet's office can make" in en.output
    assert "Show this message and exit." in en.output
    assert "Thư mục" not in en.output and "Tùy chọn" not in en.output

    group = runner.invoke(cli, ["--lang", "vi", "--help"])
    assert "Lệnh:" in group.output and "Hiện phiên bản rồi thoát." in group.output
    line = next(x for x in group.output.splitlines() if x.strip().startswith("sample"))
    assert "Ghi xã mẫu mô phỏng (Xã Thanh Bình) vào OUTDIR." in line


def test_help_follows_the_environment_without_lang(monkeypatch):
    monkeypatch.setenv("NTMGIS_LANG", "vi")
    out = CliRunner().invoke(cli, ["zonal", "--help"]).output
    assert "Thống kê từng thửa đất của RASTERS" in out
    monkeypatch.setenv("NTMGIS_LANG", "en")
    out = CliRunner().invoke(cli, ["zonal", "--help"]).output
    assert "Per-parcel statistics of RASTERS" in out
