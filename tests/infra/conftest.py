"""The infra suite shares the session-wide synthesis from ``tests/conftest.py``."""
