"""Generators of puzzle tasks."""
