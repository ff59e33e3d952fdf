"""Fakturoid API v3: todos, over OAuth client credentials.

``adapter`` speaks HTTP (token, User-Agent, statuses), ``models`` parses todos,
``paging`` walks the 40-todo pages, ``auth`` keeps the bearer token, ``status`` maps
errors. Nothing here knows GraphQL.
"""

from .adapter import FakturoidAdapter, web_url
from .models import PAGE_SIZE, FakturoidTodo, RelatedKind, RelatedObject, TodoPage
from .paging import MAX_SCAN_PAGES, Located, PageLoader, Position, Window, find_todos, read_window

__all__ = [
    "MAX_SCAN_PAGES",
    "PAGE_SIZE",
    "FakturoidAdapter",
    "FakturoidTodo",
    "Located",
    "PageLoader",
    "Position",
    "RelatedKind",
    "RelatedObject",
    "TodoPage",
    "Window",
    "find_todos",
    "read_window",
    "web_url",
]
