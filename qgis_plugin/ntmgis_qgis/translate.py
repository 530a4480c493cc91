"""Translations: every user-visible string goes through :func:`tr` (context "ntmgis").

The Vietnamese catalogue is ``i18n/ntmgis_vi.ts``; ``make plugin`` compiles it to
``ntmgis_vi.qm``. The UI follows QGIS's locale; ``vi_VN`` falls back to ``vi``.
"""

import os

from qgis.core import QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

CONTEXT = "ntmgis"
I18N_DIR = os.path.join(os.path.dirname(__file__), "i18n")


def tr(text):
    """Translate ``text`` (English source) into the UI language."""
    return QCoreApplication.translate(CONTEXT, text)


def qgis_locale():
    """QGIS's UI locale, e.g. ``"vi_VN"`` or ``"en_US"``."""
    settings = QgsSettings()
    override = settings.value("locale/overrideFlag", False, type=bool)
    user = settings.value("locale/userLocale", "", type=str)
    if override or user:
        return user or QLocale.system().name()
    return QLocale.system().name()


def set_library_language(locale):
    """The library's messages follow ``locale`` (``ntmgis.i18n``); return the language.

    ``vi_VN`` -> ``vi``, ``en_GB`` -> ``en``; a language the catalogue lacks (``fr_FR``)
    -> English (the plugin's own strings have no translation there either).
    """
    try:
        from ntmgis import i18n
    except Exception:  # the library is missing: deps explains
        return None
    language = i18n.language_from_locale(locale)
    i18n.set_language(language if language is not None else "en")
    return i18n.get_language()


def follow_qgis_language():
    """The library's language from QGIS's locale setting (read again each time)."""
    return set_library_language(qgis_locale())


def candidates(locale, prefix="ntmgis"):
    """Catalogue file names to try for ``locale``: ``vi_VN`` -> ``vi_VN`` then ``vi``."""
    locale = (locale or "").replace("-", "_")
    names = []
    if locale:
        names.append(f"{prefix}_{locale}.qm")
        language = locale.split("_")[0]
        if language != locale:
            names.append(f"{prefix}_{language}.qm")
    return names


def qt_has_own(locale):
    """Whether Qt's installed translations already hold ``qtbase_<locale>`` (then QGIS loads it)."""
    from qgis.PyQt.QtCore import QLibraryInfo

    try:
        folder = QLibraryInfo.location(QLibraryInfo.LibraryLocation.TranslationsPath)
    except AttributeError:  # Qt6
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    return any(os.path.isfile(os.path.join(folder, n)) for n in candidates(locale, "qtbase"))


def install_translator(locale=None, folder=I18N_DIR, prefix="ntmgis"):
    """Install the catalogue for ``locale`` (default QGIS's); return the translator or None.

    ``prefix="qtbase"``: the plugin's Vietnamese catalogue of Qt's own buttons (OK, Cancel,
    Yes, No...; Debian ships no ``qtbase_vi``), only when Qt has none of its own.
    """
    locale = locale if locale is not None else qgis_locale()
    if prefix == "qtbase" and qt_has_own(locale):
        return None
    for name in candidates(locale, prefix):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            translator = QTranslator()
            if translator.load(path):
                QCoreApplication.installTranslator(translator)
                return translator
    return None


def remove_translator(translator):
    """Undo :func:`install_translator`."""
    if translator is not None:
        QCoreApplication.removeTranslator(translator)
