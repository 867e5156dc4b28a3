"""Home Assistant loads custom integrations from this package (the tests put it on sys.path)."""
