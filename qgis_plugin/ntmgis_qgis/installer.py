"""First-run installer: ntmgis and its libraries into this QGIS profile, without a terminal.

The SCP pattern: after the user agrees, pip installs the wheels pinned in
``requirements.txt`` (every one hash-checked: ``--require-hashes``) and the ntmgis wheel
shipped in the plugin ZIP (``wheels/``, its SHA-256 recorded in ``wheels/SHA256SUMS``) into
the profile's own folder ``<profile>/python/dependencies/ntmgis``, with progress and a log
(``<profile>/python/dependencies/ntmgis-install.log``). QGIS's own Python is untouched;
removing the folder undoes the install. The plugin puts the folder first on ``sys.path``
when it loads (:func:`activate`).

Libraries QGIS already ships at a version ntmgis accepts (numpy, scipy, matplotlib and
their helpers: :data:`KEEP`) are not installed again, so QGIS's own compiled modules
(``osgeo.gdal_array``) keep the numpy they were built against.
"""

import hashlib
import importlib
import importlib.metadata
import os
import platform
import re
import shutil
import sys
import time

from qgis.PyQt.QtCore import QProcess

from .translate import tr

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIREMENTS = os.path.join(HERE, "requirements.txt")
WHEELS = os.path.join(HERE, "wheels")
#: distribution -> the lowest version of QGIS's own copy that ntmgis accepts (kept, not
#: installed again when QGIS's Python has it at this version or later)
KEEP = {
    "numpy": "1.26",
    "scipy": "1.10",
    "matplotlib": "3.6",
    "contourpy": "1.0.1",
    "cycler": "0.10",
    "fonttools": "4.28.2",
    "kiwisolver": "1.3.1",
    "pillow": "9",
    "pyparsing": "3",
    "python-dateutil": "2.8.2",
    "six": "1.16",
    "packaging": "21",
    "certifi": "2022",
}


class InstallError(Exception):
    """The installation failed; the message says why and where the log is."""


def dependencies_root():
    """``<profile>/python/dependencies``: the folder QGIS plugins install libraries into."""
    from qgis.core import QgsApplication

    return os.path.join(QgsApplication.qgisSettingsDirPath(), "python", "dependencies")


def target_dir():
    """The folder ntmgis and its libraries are installed into (in this QGIS profile)."""
    return os.path.join(dependencies_root(), "ntmgis")


def log_path():
    """The installer's log file."""
    return os.path.join(dependencies_root(), "ntmgis-install.log")


def activate(folder=None):
    """Put the profile's library folder first on ``sys.path`` (when it exists); return it."""
    folder = folder or target_dir()
    if os.path.isdir(folder) and folder not in sys.path:
        sys.path.insert(0, folder)
        importlib.invalidate_caches()
    return folder if os.path.isdir(folder) else None


def _version_key(text):
    return tuple(int(p) for p in re.findall(r"\d+", str(text))[:4])


def read_lock(path=REQUIREMENTS):
    """``[(name, version, [sha256, ...]), ...]`` of the pinned requirements file."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read().replace("\\\n", " ")
    entries = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *options = line.split()
        name, _, version = spec.partition("==")
        hashes = [o.split(":", 1)[1] for o in options if o.startswith("--hash=sha256:")]
        entries.append((name, version, hashes))
    return entries


def _installed_outside(name, folder):
    """Version of distribution ``name`` in QGIS's Python outside ``folder`` (None: absent)."""
    folder = os.path.realpath(folder) if folder else None
    for dist in importlib.metadata.distributions():
        dist_name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if dist_name != name.lower().replace("_", "-"):
            continue
        location = os.path.realpath(str(dist.locate_file("")))
        if folder and location.startswith(folder):
            continue
        return dist.version
    return None


def plan(lock=None, folder=None):
    """The pinned ``(name, version, hashes)`` to install: all but :data:`KEEP` already met."""
    lock = read_lock() if lock is None else lock
    folder = folder or target_dir()
    out = []
    for name, version, hashes in lock:
        floor = KEEP.get(name.lower())
        if floor is not None:
            have = _installed_outside(name, folder)
            if have is not None and _version_key(have) >= _version_key(floor):
                continue
        out.append((name, version, hashes))
    return out


def bundled_wheel():
    """``(path, sha256)`` of the ntmgis wheel in the plugin ZIP; check its recorded hash."""
    sums = os.path.join(WHEELS, "SHA256SUMS")
    if not os.path.isfile(sums):
        raise InstallError(
            tr("The plugin has no ntmgis wheel (wheels/SHA256SUMS is missing): install the "
               "ZIP that 'make plugin' builds.")
        )  # fmt: skip
    with open(sums, encoding="utf-8") as handle:
        digest, name = handle.read().split()[:2]
    path = os.path.join(WHEELS, name)
    with open(path, "rb") as handle:
        actual = hashlib.sha256(handle.read()).hexdigest()
    if actual != digest:
        raise InstallError(
            tr("The ntmgis wheel {0} does not match its SHA-256 (the ZIP is damaged): "
               "download the plugin again.").format(name)
        )  # fmt: skip
    return path, digest


def python_executable():
    """The Python interpreter of this QGIS (inside QGIS, ``sys.executable`` is QGIS itself)."""
    system = platform.system()
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if system == "Windows":
        candidates = [os.path.join(sys.exec_prefix, "python.exe"),
                      os.path.join(sys.exec_prefix, "python3.exe")]  # fmt: skip
    elif system == "Darwin":
        candidates = [os.path.join(sys.exec_prefix, "bin", f"python{version}"),
                      os.path.join(sys.exec_prefix, "bin", "python3")]  # fmt: skip
    else:
        candidates = [os.path.join(sys.exec_prefix, "bin", f"python{version}"),
                      shutil.which(f"python{version}") or ""]  # fmt: skip
    # sys.executable may be another Python found on PATH (pyenv...): only QGIS's own
    prefix = os.path.realpath(sys.exec_prefix)
    if os.path.realpath(sys.executable).startswith(prefix + os.sep) and os.path.basename(
        sys.executable
    ).startswith("python"):
        candidates.insert(0, sys.executable)
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise InstallError(
        tr("QGIS's Python interpreter (Python {0}) was not found next to QGIS.").format(version)
    )


def pip_command(python=None):
    """``[python, "-m", "pip"]`` when this Python has pip, else raise naming what to add."""
    python = python or python_executable()
    probe = QProcess()
    probe.start(python, ["-m", "pip", "--version"])
    finished = probe.waitForFinished(60000)
    if not finished or probe.exitStatus() != QProcess.ExitStatus.NormalExit or probe.exitCode():
        raise InstallError(
            tr("QGIS's Python has no pip. On Debian/Ubuntu install the package python3-pip "
               "(Software / Synaptic), then run the installer again.")
        )  # fmt: skip
    return [python, "-m", "pip"]


def write_requirements(entries, wheel, digest, path):
    """The requirements file pip installs: the chosen pins and the ZIP's ntmgis wheel."""
    lines = []
    for name, version, hashes in entries:
        lines.append(f"{name}=={version} " + " ".join(f"--hash=sha256:{h}" for h in hashes))
    url = "file://" + ("/" if not wheel.startswith("/") else "") + wheel.replace(os.sep, "/")
    lines.append(f"ntmgis @ {url} --hash=sha256:{digest}")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def install_arguments(requirements, staging, extra=()):
    """pip's arguments: hash-checked wheels only, no dependency resolution, into ``staging``."""
    return [
        "install", "--disable-pip-version-check", "--no-input", "--no-warn-script-location",
        "--only-binary", ":all:", "--no-deps", "--require-hashes", "--progress-bar", "off",
        "--target", staging, "-r", requirements, *extra,
    ]  # fmt: skip


def install(progress=None, python=None, extra_args=(), folder=None):
    """Install into the profile (blocking): ``progress(fraction, message)``, False cancels.

    Returns ``(folder, installed names)``; raises :class:`InstallError` naming the log.
    """
    folder = folder or target_dir()
    entries = plan(folder=folder)
    wheel, digest = bundled_wheel()
    command = pip_command(python)
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    staging = folder + ".part"
    shutil.rmtree(staging, ignore_errors=True)
    requirements = write_requirements(entries, wheel, digest, folder + ".requirements.txt")
    args = command + install_arguments(requirements, staging, extra_args)
    total = len(entries) + 1
    seen = 0
    log = open(log_path(), "w", encoding="utf-8")  # noqa: SIM115 - closed below
    log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(args)}\n")
    process = QProcess()
    process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
    process.start(args[0], args[1:])
    cancelled = False
    pending = ""
    try:
        process.waitForStarted(60000)
        while True:
            running = not process.waitForFinished(200)
            pending += bytes(process.readAll()).decode("utf-8", errors="replace")
            *lines, pending = pending.split("\n")
            if not running:
                lines.append(pending)
            for line in lines:
                log.write(line + "\n")
                if line.startswith(("Collecting", "Processing")) and len(line.split()) > 1:
                    seen += 1
                    name = line.split()[1].split("==")[0]
                    message = tr("Downloading {0}").format(name)
                    if (
                        progress is not None
                        and progress(0.9 * min(seen, total) / total, message) is False
                    ):
                        cancelled = True
                elif line.startswith("Installing collected packages") and progress is not None:
                    progress(0.92, tr("Installing…"))
            if cancelled and running:
                process.kill()
                process.waitForFinished(10000)
                break
            if not running:
                break
        code = process.exitCode() if process.exitStatus() == QProcess.ExitStatus.NormalExit else -1
    finally:
        log.close()
    if cancelled:
        shutil.rmtree(staging, ignore_errors=True)
        raise InstallError(tr("Installation cancelled: nothing was changed."))
    if code != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise InstallError(
            tr("pip could not install the libraries (exit code {0}); the log is {1}.").format(
                code, log_path()
            )
        )
    old = folder + ".old"
    shutil.rmtree(old, ignore_errors=True)
    if os.path.isdir(folder):
        os.replace(folder, old)
    os.replace(staging, folder)
    shutil.rmtree(old, ignore_errors=True)
    activate(folder)
    if progress is not None:
        progress(1.0, tr("Installed into {0}").format(folder))
    return folder, [name for name, _, _ in entries] + ["ntmgis"]


def needs_restart(installed):
    """Names of installed libraries whose older copy this QGIS has already imported."""
    import_names = {"scikit-learn": "sklearn", "python-dateutil": "dateutil", "pillow": "PIL"}
    out = []
    for name in installed:
        module = import_names.get(name, name.replace("-", "_"))
        loaded = sys.modules.get(module)
        where = getattr(loaded, "__file__", None) or ""
        if loaded is not None and not os.path.realpath(where).startswith(
            os.path.realpath(target_dir())
        ):
            out.append(name)
    return out
