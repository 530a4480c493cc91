"""Build the QGIS plugin ZIP: ``dist/ntmgis_qgis-<version>.zip`` (``make plugin``).

The ZIP holds the plugin (``ntmgis_qgis/``), the Vietnamese catalogues compiled by
``lrelease`` (``i18n/ntmgis_vi.qm``, ``i18n/qtbase_vi.qm`` for Qt's own buttons), the atlas
layout template (``layouts/hamlet_a3.qpt`` from ``styles/layouts/``), the pinned
dependency list (``requirements.txt``) and the ntmgis library as a pure-Python wheel
(``wheels/ntmgis-<version>-py3-none-any.whl`` with ``wheels/SHA256SUMS``), which the
plugin's installer puts into the QGIS profile (see ``qgis_plugin/README.md``). Also
written: ``dist/ntmgis-<version>-py3-none-any.whl`` for the experts' manual install.
qgis-plugin-ci conventions: the version comes from the package (``ntmgis/_version.py``),
the changelog of ``metadata.txt`` from ``qgis_plugin/CHANGELOG.md``.

``python scripts/build_plugin.py --update-ts`` refreshes ``i18n/ntmgis_vi.ts`` from the
``tr()`` strings of the sources: new strings are added as unfinished, strings no longer
used are dropped, translations are kept. Only the standard library is needed.
"""

from __future__ import annotations

import argparse
import ast
import configparser
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "qgis_plugin" / "ntmgis_qgis"
TS = PLUGIN / "i18n" / "ntmgis_vi.ts"
TEMPLATE = ROOT / "styles" / "layouts" / "hamlet_a3.qpt"
QT_TS = PLUGIN / "i18n" / "qtbase_vi.ts"
CHANGELOG = ROOT / "qgis_plugin" / "CHANGELOG.md"
CONTEXT = "ntmgis"
# class attributes and module constants whose strings are passed to tr() by name
TRANSLATED_NAMES = {"DISPLAY", "HELP", "GROUPS", "PERIOD_HELP", "CANCELLED_TEXT"}
#: the algorithms' declaration helpers (``add_*`` of algorithms/base.py) translate their
#: ``description``, the second argument
DESCRIBED_CALLS = "add_"
SKIP = {"__pycache__"}


def version() -> str:
    """The version of the package (``ntmgis/_version.py``): plugin and library share it."""
    text = (ROOT / "ntmgis" / "_version.py").read_text(encoding="utf-8")
    return re.search(r"__version__\s*=\s*[\"']([^\"']+)", text).group(1)


def changelog(limit: int = 5) -> str:
    """``metadata.txt``'s changelog from ``CHANGELOG.md`` (keep-a-changelog sections)."""
    if not CHANGELOG.is_file():
        return ""
    out, current = [], None
    for line in CHANGELOG.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^## \[?([^\]\s]+)\]?", line)
        if heading:
            if len(out) >= limit:
                break
            current = heading.group(1)
            out.append(f"{current}:")
        elif current and line.strip().startswith(("-", "*")):
            out.append(" " * 4 + "- " + line.strip().lstrip("-* ").strip())
    return "\n".join(out)


def metadata_text() -> str:
    """``metadata.txt`` with the package's version and the changelog."""
    meta = configparser.ConfigParser(interpolation=None)
    meta.optionxform = str
    meta.read(PLUGIN / "metadata.txt", encoding="utf-8")
    meta["general"]["version"] = version()
    log = changelog()
    if log:
        meta["general"]["changelog"] = "\n" + log
    import io

    buffer = io.StringIO()
    meta.write(buffer)
    return buffer.getvalue()


def library_wheel(dist: Path) -> Path:
    """Build ``ntmgis-<version>-py3-none-any.whl`` (pure Python) into ``dist``."""
    dist.mkdir(parents=True, exist_ok=True)
    for old in dist.glob("ntmgis-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp, str(ROOT)],
            check=True,
        )
        built = next(Path(tmp).glob("ntmgis-*-py3-none-any.whl"))
        target = dist / built.name
        shutil.copyfile(built, target)
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    return target


def _strings_of(node) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Dict):
        return [s for value in node.values for s in _strings_of(value)]
    return []


def extract_strings(package: Path = PLUGIN) -> list[str]:
    """Every string the plugin translates, in order of first appearance."""
    found: dict[str, None] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name == "tr":
                    for text in _strings_of(node.args[0]):
                        found.setdefault(text)
                elif name and name.startswith(DESCRIBED_CALLS) and len(node.args) > 1:
                    for text in _strings_of(node.args[1]):
                        found.setdefault(text)
            elif isinstance(node, ast.Assign):
                targets = {t.id for t in node.targets if isinstance(t, ast.Name)}
                if targets & TRANSLATED_NAMES:
                    for text in _strings_of(node.value):
                        found.setdefault(text)
    return [text for text in found if text.strip()]


def read_ts(path: Path = TS) -> dict[str, tuple[str, bool]]:
    """Map each source string to (translation, finished) from a Qt Linguist file."""
    if not path.is_file():
        return {}
    out = {}
    for message in ET.parse(path).getroot().iter("message"):
        source = message.findtext("source") or ""
        translation = message.find("translation")
        text = "" if translation is None else (translation.text or "")
        finished = translation is not None and translation.get("type") is None and bool(text)
        out[source] = (text, finished)
    return out


def write_ts(entries: dict[str, tuple[str, bool]], path: Path = TS) -> None:
    """Write a Qt Linguist file with one context holding ``entries``."""
    root = ET.Element("TS", version="2.1", language="vi_VN", sourcelanguage="en")
    context = ET.SubElement(root, "context")
    ET.SubElement(context, "name").text = CONTEXT
    for source, (text, finished) in entries.items():
        message = ET.SubElement(context, "message")
        ET.SubElement(message, "source").text = source
        translation = ET.SubElement(message, "translation")
        translation.text = text
        if not finished:
            translation.set("type", "unfinished")
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = ET.tostring(root, encoding="unicode")
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n", encoding="utf-8"
    )


def update_ts(path: Path = TS) -> list[str]:
    """Refresh the catalogue from the sources; return the strings still unfinished."""
    old = read_ts(path)
    entries = {s: old.get(s, ("", False)) for s in extract_strings()}
    write_ts(entries, path)
    return [s for s, (_, finished) in entries.items() if not finished]


def lrelease() -> str:
    """The lrelease program (Debian: qttools5-dev-tools)."""
    for name in ("lrelease", "lrelease-qt5", "/usr/lib/qt5/bin/lrelease"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit(
        "lrelease not found: install it with 'sudo apt-get install qttools5-dev-tools' "
        "(make plugin does this when run as root)."
    )


def compile_ts(ts: Path, qm: Path) -> Path:
    """Compile ``ts`` to ``qm`` with lrelease; fail on any unfinished entry."""
    unfinished = [s for s, (_, finished) in read_ts(ts).items() if not finished]
    if unfinished:
        raise SystemExit(
            f"{ts}: {len(unfinished)} untranslated string(s), e.g. {unfinished[0]!r}. "
            f"Translate them (Qt Linguist, or edit the file) before building."
        )
    subprocess.run([lrelease(), "-silent", str(ts), "-qm", str(qm)], check=True)
    return qm


def build(dist: Path = ROOT / "dist") -> Path:
    """Write ``dist/ntmgis_qgis-<version>.zip``; return its path."""
    missing = [s for s in extract_strings() if s not in read_ts()]
    if missing:
        raise SystemExit(
            f"{TS} lacks {len(missing)} string(s) of the sources, e.g. {missing[0]!r}: run "
            f"'python scripts/build_plugin.py --update-ts' and translate them."
        )
    dist.mkdir(parents=True, exist_ok=True)
    target = dist / f"ntmgis_qgis-{version()}.zip"
    wheel = library_wheel(dist)
    with tempfile.TemporaryDirectory() as tmp:
        qm = compile_ts(TS, Path(tmp) / "ntmgis_vi.qm")
        qt_qm = compile_ts(QT_TS, Path(tmp) / "qtbase_vi.qm")
        partial = target.with_suffix(".zip.part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(PLUGIN.rglob("*")):
                rel = path.relative_to(PLUGIN.parent)
                if path.is_dir() or SKIP & set(rel.parts) or path.suffix in (".pyc", ".qm"):
                    continue
                if rel.as_posix() == "ntmgis_qgis/metadata.txt":
                    archive.writestr(rel.as_posix(), metadata_text())
                    continue
                if "wheels" in rel.parts:
                    continue
                archive.write(path, rel.as_posix())
            archive.write(qm, "ntmgis_qgis/i18n/ntmgis_vi.qm")
            archive.write(qt_qm, "ntmgis_qgis/i18n/qtbase_vi.qm")
            digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
            archive.write(wheel, f"ntmgis_qgis/wheels/{wheel.name}")
            archive.writestr("ntmgis_qgis/wheels/SHA256SUMS", f"{digest}  {wheel.name}\n")
            archive.write(TEMPLATE, "ntmgis_qgis/layouts/hamlet_a3.qpt")
            readme = ROOT / "qgis_plugin" / "README.md"
            if readme.is_file():
                archive.write(readme, "ntmgis_qgis/README.md")
            licence = ROOT / "LICENSE"
            if licence.is_file():
                archive.write(licence, "ntmgis_qgis/LICENSE")
            if CHANGELOG.is_file():
                archive.write(CHANGELOG, "ntmgis_qgis/CHANGELOG.md")
        partial.replace(target)
    return target


def main(argv=None) -> int:
    """Command line: build the ZIP, or ``--update-ts``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-ts", action="store_true", help="refresh i18n/ntmgis_vi.ts")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    args = parser.parse_args(argv)
    if args.update_ts:
        unfinished = update_ts()
        print(f"{TS}: {len(unfinished)} string(s) to translate")
        for text in unfinished:
            print(f"  {text!r}")
        return 0
    print(build(args.dist))
    return 0


if __name__ == "__main__":
    sys.exit(main())
