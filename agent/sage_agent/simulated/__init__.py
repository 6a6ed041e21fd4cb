"""A simulated Sage 100 company kept in SQLite: runs anywhere, behaves like Sage for the agent's API."""

from sage_agent.simulated.store import SimulatedBackend

__all__ = ["SimulatedBackend"]
