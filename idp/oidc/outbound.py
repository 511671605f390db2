"""Outbound HTTP to relying parties (logout tokens, client key sets).

A redirect is answered as a failure, never followed: the URL the client registered is the
only place we send to or read from.
"""

from __future__ import annotations

import urllib.request


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


no_redirects = urllib.request.build_opener(_NoRedirects)
