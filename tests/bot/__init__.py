"""Tests of the shell (bot/)."""
