"""``tomllib`` on Python 3.11+, the ``tomli`` backport on 3.10."""

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["tomllib"]
