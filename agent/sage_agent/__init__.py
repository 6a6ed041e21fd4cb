"""The Sage 100 agent: the BOI wrapped behind the HTTPS API of contract v1."""

__version__ = "0.1.0"
