"""The conv-conformance test suite: the oracle's tests, the conformance suite, its self-test."""
