"""Tests of the brain (conversations/)."""
