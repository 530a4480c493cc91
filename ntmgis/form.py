"""The form of a Vietnamese administrative document (Nghị định 30/2020/NĐ-CP).

One :class:`DocumentForm` holds what the commune office puts around a report: the issuing
body, the number and symbol, the place-and-date line, the signer block and the list of
recipients. The report workbook, its PDF and the printed maps' signature block all take
it from the run config's ``[report]`` section::

    [report]
    parent_body = "UBND HUYỆN CAN LỘC"     # optional line above the issuing body
    issuing_body = "UBND XÃ THANH BÌNH"     # default: from [commune] name
    number = "15"                           # "Số: 15/BC-UBND"; default left blank
    symbol = "BC-UBND"
    place = "Thanh Bình"                    # default: [commune] place, else the name
    date = "2026-12-02"                     # "today" (default) or "" for a blank line
    signer_authority = "TM. ỦY BAN NHÂN DÂN"
    signer_title = "CHỦ TỊCH"
    signer_name = "Nguyễn Văn An"
    recipients = ["UBND huyện Can Lộc", "Văn phòng Điều phối NTM huyện", "Lưu: VT"]
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass, field, replace

from .i18n import message as _say
from .i18n import register_all

logger = logging.getLogger(__name__)

# The [report] settings' messages (ntmgis.i18n catalogue): key -> (vi, en).
_MESSAGES = {
    "error.form.not_a_table": (
        "{where} phải là một mục (bảng) trong tệp cấu hình.",
        "{where} must be a table.",
    ),
    "error.form.unknown_key": (
        "Khóa '{name}' trong {where} không có; các khóa dùng được: {known}. Sửa tên khóa "
        "trong tệp cấu hình.",
        "Unknown key '{name}' in {where}; known keys: {known}.",
    ),
    "error.form.wrong_type": (
        "{where} {name} phải là {want}, không phải {value}.",
        "{where} {name} must be {want}, not {value}.",
    ),
    "form.want.str": ("một đoạn chữ", "a text"),
    "form.want.list": ("một danh sách các đoạn chữ", "a list of texts"),
    "error.form.bad_date": (
        "{where} date phải là 'today' (hôm nay), '' (để trống, điền khi ký) hoặc một ngày "
        "dạng YYYY-MM-DD, không phải {value}.",
        "{where} date must be 'today', '' (blank, filled in at signing) or a date "
        "YYYY-MM-DD, not {value}.",
    ),
}
register_all(_MESSAGES)

__all__ = ["DocumentForm", "NATIONAL_TITLE", "MOTTO", "FORM_KEYS", "ROMAN", "vn_date", "check_form"]

#: appendix numbers (Phụ lục I, II, ...)
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")

#: Quốc hiệu and tiêu ngữ, as Nghị định 30/2020/NĐ-CP writes them.
NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"

#: keys of the config's ``[report]`` section: key -> "str" or "list"
FORM_KEYS = {
    "parent_body": "str",
    "issuing_body": "str",
    "number": "str",
    "symbol": "str",
    "place": "str",
    "date": "str",
    "title": "str",
    "signer_authority": "str",
    "signer_title": "str",
    "signer_name": "str",
    "recipients": "list",
}

_BLANK_DATE = "ngày ..... tháng ..... năm ........"


def vn_date(day: _dt.date | None) -> str:
    """The date as an administrative document writes it ("ngày 02 tháng 12 năm 2026").

    Parameters
    ----------
    day : datetime.date or None
        None gives the blank line filled in by hand at signing.

    Returns
    -------
    str

    Examples
    --------
    >>> vn_date(_dt.date(2022, 3, 5))
    'ngày 05 tháng 03 năm 2022'
    >>> vn_date(None)
    'ngày ..... tháng ..... năm ........'
    """
    if day is None:
        return _BLANK_DATE
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def _bare_name(commune: str | None) -> str:
    """The commune's name without its unit word ("Xã Thanh Bình" -> "Thanh Bình")."""
    name = " ".join(str(commune or "").split())
    for unit in ("Xã ", "xã ", "XÃ ", "Phường ", "Thị trấn "):
        if name.startswith(unit):
            return name[len(unit) :].strip()
    return name


def check_form(table: dict, where: str = "[report]") -> dict:
    """Validate a ``[report]`` table; raise ConfigError naming the key.

    Parameters
    ----------
    table : dict
        The section's content.
    where : str
        Where it comes from, for the message.

    Returns
    -------
    dict
        The same keys, ``date`` checked (``"today"``, ``""`` or ``YYYY-MM-DD``).

    Examples
    --------
    >>> check_form({"number": "15", "recipients": ["Lưu: VT"]})
    {'number': '15', 'recipients': ['Lưu: VT']}
    """
    from .errors import ConfigError

    if not isinstance(table, dict):
        raise ConfigError(_say("error.form.not_a_table", where=where))
    for key, value in table.items():
        kind = FORM_KEYS.get(key)
        if kind is None:
            raise ConfigError(
                _say("error.form.unknown_key", name=key, where=where, known=", ".join(FORM_KEYS))
            )
        ok = isinstance(value, str) if kind == "str" else (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        )  # fmt: skip
        if not ok:
            want = _say("form.want.str" if kind == "str" else "form.want.list")
            raise ConfigError(
                _say("error.form.wrong_type", where=where, name=key, want=want, value=repr(value))
            )
    date = table.get("date", "today")
    if date not in ("today", ""):
        try:
            _dt.date.fromisoformat(date)
        except ValueError:
            raise ConfigError(_say("error.form.bad_date", where=where, value=repr(date))) from None
    return dict(table)


@dataclass
class DocumentForm:
    """The administrative form around a report (Nghị định 30/2020/NĐ-CP, Phụ lục I).

    Attributes
    ----------
    issuing_body : str
        Tên cơ quan ban hành, top left ("UBND XÃ THANH BÌNH").
    parent_body : str
        Cơ quan chủ quản above it, or "".
    number, symbol : str
        "Số: {number}/{symbol}"; a blank number leaves room to write it in.
    place : str
        Địa danh of the place-and-date line.
    date : datetime.date or None
        None leaves the date to be written at signing.
    title : str
        Trích yếu: the line under "BÁO CÁO"; "" lets the report choose it.
    signer_authority, signer_title, signer_name : str
        The signer block ("TM. ỦY BAN NHÂN DÂN" / "CHỦ TỊCH" / name).
    recipients : list of str
        Nơi nhận.

    Examples
    --------
    >>> form = DocumentForm.from_config({"number": "15"}, commune="Xã Thanh Bình")
    >>> form.issuing_body, form.number_line, form.place
    ('UBND XÃ THANH BÌNH', 'Số: 15/BC-UBND', 'Thanh Bình')
    >>> form.with_date(None).place_date
    'Thanh Bình, ngày ..... tháng ..... năm ........'
    """

    issuing_body: str = "UBND XÃ ..............."
    parent_body: str = ""
    number: str = ""
    symbol: str = "BC-UBND"
    place: str = "..............."
    date: _dt.date | None = None
    title: str = ""
    signer_authority: str = "TM. ỦY BAN NHÂN DÂN"
    signer_title: str = "CHỦ TỊCH"
    signer_name: str = ""
    recipients: list = field(default_factory=list)

    @classmethod
    def from_config(
        cls, table: dict | None = None, *, commune: str | None = None, place: str | None = None
    ) -> DocumentForm:
        """The form from a ``[report]`` table, the rest from the commune's name.

        Parameters
        ----------
        table : dict, optional
            The run config's ``[report]`` section (validated by :func:`check_form`).
        commune : str, optional
            The commune's name ("Xã Thanh Bình"): the default issuing body and place.
        place : str, optional
            ``[commune] place``: the default place of the date line.

        Returns
        -------
        DocumentForm
        """
        table = check_form(dict(table or {}))
        bare = _bare_name(commune)
        date = table.get("date", "today")
        kwargs = {k: v for k, v in table.items() if k != "date"}
        kwargs.setdefault("issuing_body", f"UBND XÃ {bare.upper()}" if bare else cls.issuing_body)
        kwargs.setdefault("place", place or bare or cls.place)
        if date == "today":
            day = _dt.date.today()
        else:
            day = _dt.date.fromisoformat(date) if date else None
        return cls(date=day, **kwargs)

    def with_date(self, day: _dt.date | None) -> DocumentForm:
        """A copy with another date (None: blank)."""
        return replace(self, date=day)

    @property
    def number_line(self) -> str:
        """The number line, Số: 15/BC-UBND (room to write the number when blank)."""
        number = self.number.strip() or "\u2002" * 4
        return f"Số: {number}/{self.symbol}"

    @property
    def place_date(self) -> str:
        """The place-and-date line, Thanh Bình, ngày 02 tháng 12 năm 2026."""
        return f"{self.place}, {vn_date(self.date)}"

    @property
    def appendix_reference(self) -> str:
        """The line under an appendix's title: (Kèm theo Báo cáo số 15/BC-UBND ngày …)."""
        number = self.number.strip() or "....."
        day = "ngày ..../..../......" if self.date is None else f"ngày {self.date:%d/%m/%Y}"
        return f"(Kèm theo Báo cáo số {number}/{self.symbol} {day} của {self.issuing_body})"

    @property
    def signer_lines(self) -> list[str]:
        """The signer block's bold lines, then the name (when given)."""
        lines = [x for x in (self.signer_authority, self.signer_title) if x]
        return lines

    @property
    def recipient_lines(self) -> list[str]:
        """The recipients as lines "- UBND huyện …;", the last "- Lưu: VT."."""
        items = [r.strip().rstrip(";.") for r in self.recipients if r.strip()]
        if not any(r.lower().startswith("lưu") for r in items):
            items.append("Lưu: VT")
        return [f"- {r}{'.' if i == len(items) - 1 else ';'}" for i, r in enumerate(items)]
