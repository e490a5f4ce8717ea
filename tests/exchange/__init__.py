"""Tests of the secure exchange."""
