"""Helpers of the conformance suite: strategies, tolerances, reproducers, registry, records."""
