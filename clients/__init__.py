"""Relying-party apps: each signs members in only through the identity provider, over HTTP."""
