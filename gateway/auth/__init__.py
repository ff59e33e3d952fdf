"""Client authentication and scopes: API keys and JWTs become a :class:`Principal`
whose scopes say which vendors it may read and write (see principal.py)."""
