"""Where a "next" parameter may send the browser: only back to this site."""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

MAX_NEXT_LENGTH = 2000


def safe_next_url(request: HttpRequest, candidate: str, *, fallback: str) -> str:
    """`candidate` if it is a same-site URL, else `fallback`. Control characters are
    refused: a newline in a Location header would be a 500, or a header injection."""
    if (
        candidate
        and len(candidate) <= MAX_NEXT_LENGTH
        and candidate.isprintable()
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return fallback
