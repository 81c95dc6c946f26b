"""Stand-in package of the test image: only the worker entry point."""
