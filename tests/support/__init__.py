"""Helpers of the template's tests (imported as `support.<module>`, not from conftest)."""
