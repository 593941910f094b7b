"""The test suite: a package, so pytest imports every module by its full name from the root."""
