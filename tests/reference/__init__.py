"""Tests of the oracle itself: seed examples, golden cases, definitions, properties, errors."""
