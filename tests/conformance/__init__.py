"""Conformance tests: the backend under test against the oracle, case by case."""
