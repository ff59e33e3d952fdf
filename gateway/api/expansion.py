"""The size of a document as it would run: every fragment spread expanded.

A fragment spread is cheap to write and costly to run: a fragment that spreads
the previous one twice doubles the work with every line, so 23 such lines (under
a kilobyte) stand for millions of fields. graphql-core's validation
(OverlappingFieldsCanBeMerged), strawberry's depth limiter and field collection
in execution all walk the expanded document, so the limits must measure the
expanded document before any of them runs.

:func:`measure` does so in time linear in the document, never in its expansion:
each definition is walked once for what it holds itself and which fragments it
spreads (how often, and at what depth), and each fragment's expanded size is
worked out once, from those of the fragments it spreads, and reused at every
spread. Both walks use explicit stacks: nesting is bounded only by the token
limit, deeper than Python's recursion limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


@dataclass(frozen=True, slots=True)
class Size:
    """What a document (or one definition of it) holds once expanded.

    - ``fields``: field selections, ``__typename`` and introspection included;
    - ``depth``: the deepest nesting of fields with sub-selections, counted as
      strawberry's QueryDepthLimiter counts (``{ a { b } }`` is 1), with
      introspection fields (``__schema``, ``__type``) and all below them left out;
    - ``aliases``: aliased fields.
    """

    fields: int = 0
    depth: int = 0
    aliases: int = 0


@dataclass(slots=True)
class _Own:
    """One definition's own selections, with its spreads still to be expanded."""

    fields: int = 0
    depth: int = 0
    aliases: int = 0
    # Spread name -> (how many times, deepest level it is spread at; -1: only
    # under introspection fields, where depth is not counted).
    spreads: dict[str, tuple[int, int]] = field(default_factory=dict)


def _own(selection_set: SelectionSetNode) -> _Own:
    own = _Own()
    stack: list[tuple[SelectionSetNode, int, bool]] = [(selection_set, 0, False)]
    while stack:
        selections, level, introspection = stack.pop()
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                own.fields += 1
                own.aliases += selection.alias is not None
                if selection.selection_set is not None:
                    skipped = introspection or selection.name.value.startswith("__")
                    if not skipped:
                        own.depth = max(own.depth, level + 1)
                    stack.append((selection.selection_set, level + (not skipped), skipped))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, level, introspection))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                count, deepest = own.spreads.get(name, (0, -1))
                own.spreads[name] = (count + 1, deepest if introspection else max(deepest, level))
    return own


def _expand(own: _Own, sizes: dict[str, Size]) -> Size:
    # A spread of an unknown fragment, or one in a cycle, counts as nothing here:
    # validation refuses both documents right after.
    fields, depth, aliases = own.fields, own.depth, own.aliases
    for name, (count, deepest) in own.spreads.items():
        size = sizes.get(name)
        if size is None:
            continue
        fields += count * size.fields
        aliases += count * size.aliases
        if deepest >= 0:
            depth = max(depth, deepest + size.depth)
    return Size(fields, depth, aliases)


def _fragment_sizes(owns: dict[str, _Own]) -> dict[str, Size]:
    """Each fragment's expanded size, every fragment after those it spreads."""
    sizes: dict[str, Size] = {}
    started: set[str] = set()
    for first in owns:
        stack = [first]
        while stack:
            name = stack[-1]
            if name in sizes:
                stack.pop()
                continue
            if name not in started:
                started.add(name)
                # A fragment already started and not done spreads back into
                # itself: a cycle, left out (see _expand).
                waiting = [s for s in owns[name].spreads if s in owns and s not in started]
                if waiting:
                    stack.extend(waiting)
                    continue
            sizes[name] = _expand(owns[name], sizes)
            stack.pop()
    return sizes


@dataclass(frozen=True, slots=True)
class DocumentSize:
    """The measures the limits compare: ``fields`` is the most that any one pass
    over the document walks (all its operations, or any one fragment: validation
    visits unused fragments too); depth is the deepest operation's; aliases are
    summed over the operations, as strawberry's MaxAliasesLimiter sums them."""

    fields: int
    depth: int
    aliases: int


def measure(document: DocumentNode) -> DocumentSize:
    fragments = {
        d.name.value: _own(d.selection_set)
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    sizes = _fragment_sizes(fragments)
    operations = [
        _expand(_own(d.selection_set), sizes)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    return DocumentSize(
        fields=max(
            sum(size.fields for size in operations),
            max((size.fields for size in sizes.values()), default=0),
        ),
        depth=max((size.depth for size in operations), default=0),
        aliases=sum(size.aliases for size in operations),
    )
