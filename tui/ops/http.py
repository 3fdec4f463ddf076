"""The one way we speak HTTP to others (Healthchecks-style pings, Prometheus's API): http
and https only (no ftp, file or data handler for a URL or a redirect to reach), and no
redirect followed: a 3xx answer is an HTTPError the caller reports (issue 20, row 10)."""

from __future__ import annotations

import ssl
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


def opener(context: ssl.SSLContext | None = None) -> urllib.request.OpenerDirector:
    """An opener for http and https (https with `context`, e.g. a CA bundle's)."""
    director = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), urllib.request.HTTPHandler(),
                    urllib.request.HTTPSHandler(context=context), NoRedirect(),
                    urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPErrorProcessor()):
        director.add_handler(handler)
    return director


def is_redirect(code: int) -> bool:
    return 300 <= code < 400
