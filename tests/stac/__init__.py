"""Real STAC API and HTTP servers on 127.0.0.1 for the fetch tests (tests/test_fetch.py)."""
