"""A simulator of the AvidConnect API, for tests and the local demo."""
