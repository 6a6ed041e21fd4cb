"""The company and user token headers, checked on every call in constant time."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from avid_sim.errors import AvidApiError
from avid_sim.settings import SimSettings


def check_tokens(request: Request, settings: SimSettings) -> None:
    for header, expected in (
        (settings.company_header, settings.company_token),
        (settings.user_header, settings.user_token),
    ):
        sent = request.headers.get(header)
        if sent is None:
            raise AvidApiError(401, f"the {header} header is missing; send the token generated in AvidSuite")
        if not hmac.compare_digest(sent.encode(), expected.get_secret_value().encode()):
            raise AvidApiError(401, f"the {header} token is not valid; check the token in AvidSuite")
