"""A faithful fake of Sage 100's ProvideX COM object model over an in-memory company (tests, any platform)."""

from sage_agent.boi.fake.company import FakeSageCompany
from sage_agent.boi.fake.objects import FakeComError, FakeComRuntime, post_batch

__all__ = ["FakeComError", "FakeComRuntime", "FakeSageCompany", "post_batch"]
