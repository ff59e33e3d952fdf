"""The k-way merge over vendor work sources, on list-backed sources.

These exercise the algorithm (order, resumption, page economy, failure) in
isolation; tests/test_work_items.py runs it end to end over the sandboxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from gateway.core.errors import UpstreamUnavailable
from gateway.core.types import Vendor
from gateway.core.work import (
    MergeState,
    SourceState,
    WorkBatch,
    WorkQuery,
    WorkRecord,
    WorkSort,
    WorkSource,
    merge,
)
from gateway.vendors.fakturoid import FAKTUROID
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.zoho import ZOHO

BASE = datetime(2026, 1, 1, tzinfo=UTC)


def record(vendor: Vendor, n: int, days: int | None) -> WorkRecord:
    due = None if days is None else BASE + timedelta(days=days)
    return WorkRecord(vendor, str(n), f"{vendor.value} {n}", False, due, None, None, None, None, n)


class ListSource:
    sorts_without_values: frozenset[WorkSort] = frozenset()

    def __init__(self, vendor: Vendor, days: list[int | None], page_size: int) -> None:
        self.vendor = vendor
        self.records = [record(vendor, n, d) for n, d in enumerate(days)]
        self.page_size = page_size
        self.fetched: list[int] = []
        self.fail_at: int | None = None

    async def work_batch(self, query: WorkQuery, position: str | None) -> WorkBatch:
        page = int(position or 0)
        if page == self.fail_at:
            raise UpstreamUnavailable(self.vendor, "down")
        self.fetched.append(page)
        ordered = sorted(self.records, key=query.sort_key)
        chunk = ordered[page * self.page_size : (page + 1) * self.page_size]
        more = (page + 1) * self.page_size < len(ordered)
        return WorkBatch(chunk, str(page + 1) if more else None)


async def collect(sources: Sequence[WorkSource], query: WorkQuery, size: int) -> list[WorkRecord]:
    state: MergeState = {}
    out: list[WorkRecord] = []
    while True:
        result = await merge(sources, query, state, size)
        out.extend(result.records)
        if not result.has_next:
            return out
        state = result.states[-1]


@pytest.mark.parametrize("size", [1, 3, 7, 50])
async def test_pages_concatenate_to_the_fully_sorted_list(size: int) -> None:
    a = ListSource(INVOICED, [5, 1, 9, 3, 3, None, 12], page_size=2)
    b = ListSource(ZOHO, [2, 8, None, 4], page_size=3)
    c = ListSource(FAKTUROID, [7, 0, 11, 6, 10], page_size=4)
    query = WorkQuery(sort=WorkSort.DUE_AT)
    merged = await collect([a, b, c], query, size)
    everything = sorted(a.records + b.records + c.records, key=query.sort_key)
    assert merged == everything
    assert [r.due_at for r in merged][-2:] == [None, None]


async def test_descending_keeps_missing_values_last() -> None:
    a = ListSource(INVOICED, [5, None, 9], page_size=2)
    b = ListSource(ZOHO, [2, 8], page_size=2)
    merged = await collect([a, b], WorkQuery(sort=WorkSort.DUE_AT, descending=True), 2)
    days = [None if r.due_at is None else (r.due_at - BASE).days for r in merged]
    assert days == [9, 8, 5, 2, None]


async def test_resuming_does_not_reread_consumed_pages() -> None:
    a = ListSource(INVOICED, list(range(0, 40, 2)), page_size=5)
    b = ListSource(ZOHO, list(range(1, 40, 2)), page_size=5)
    merged = await collect([a, b], WorkQuery(), 4)
    assert len(merged) == 40
    # A later page re-reads at most the upstream page its cursor stopped inside,
    # never one before it.
    assert a.fetched == sorted(a.fetched) and b.fetched == sorted(b.fetched)


async def test_first_page_pulls_only_what_it_needs() -> None:
    a = ListSource(INVOICED, list(range(100)), page_size=10)
    b = ListSource(ZOHO, list(range(100, 200)), page_size=10)
    result = await merge([a, b], WorkQuery(), {}, 15)
    assert a.fetched == [0, 1] and b.fetched == [0]
    assert result.has_next


async def test_a_vendor_failing_mid_pagination_leaves_the_rest() -> None:
    a = ListSource(INVOICED, list(range(0, 20, 2)), page_size=3)
    b = ListSource(ZOHO, list(range(1, 20, 2)), page_size=3)
    first = await merge([a, b], WorkQuery(), {}, 4)
    b.fail_at = 1
    second = await merge([a, b], WorkQuery(), first.states[-1], 10)
    assert ZOHO in second.failures
    assert all(r.vendor is INVOICED for r in second.records[2:])
    # The failed vendor keeps its position, so a later page picks it up again.
    assert second.states[-1][ZOHO] == SourceState("1", 0)
    b.fail_at = None
    third = await merge([a, b], WorkQuery(), second.states[-1], 20)
    zoho = [r for r in first.records + second.records + third.records if r.vendor is ZOHO]
    assert [r.item for r in zoho] == list(range(10))


async def test_snapshots_expire_and_are_bounded() -> None:
    from gateway.state.work_snapshots import WorkSnapshots

    now = [0.0]
    snapshots = WorkSnapshots(clock=lambda: now[0])
    records = [record(ZOHO, 1, None)]
    token = await snapshots.put(WorkQuery(), records)
    assert await snapshots.get(token, WorkQuery()) == records
    assert await snapshots.get(token, WorkQuery(search="x")) is None
    now[0] = WorkSnapshots.TTL + 1
    assert await snapshots.get(token, WorkQuery()) is None
    tokens = [await snapshots.put(WorkQuery(), records) for _ in range(WorkSnapshots.LIMIT + 1)]
    assert await snapshots.get(tokens[0], WorkQuery()) is None
    assert await snapshots.get(tokens[-1], WorkQuery()) == records


async def test_a_source_yielding_only_empty_pages_is_not_walked_to_the_end() -> None:
    from gateway.core.work import MAX_BATCHES_PER_SOURCE

    class EmptyPages:
        vendor = INVOICED
        sorts_without_values: frozenset[WorkSort] = frozenset()

        def __init__(self) -> None:
            self.calls = 0

        async def work_batch(self, query: WorkQuery, position: str | None) -> WorkBatch:
            self.calls += 1
            return WorkBatch([], str(int(position or 0) + 1))

    source = EmptyPages()
    result = await merge([source], WorkQuery(search="nothing"), {}, 10)
    assert source.calls == MAX_BATCHES_PER_SOURCE
    assert result.records == [] and result.has_next
    # The cursor resumes after the pages already read, never at the start again.
    following = await merge([source], WorkQuery(search="nothing"), result.end_state, 10)
    assert source.calls == 2 * MAX_BATCHES_PER_SOURCE
    assert following.end_state[INVOICED] == SourceState(str(2 * MAX_BATCHES_PER_SOURCE), 0)


class StreamedSource:
    """Pages of ``page_size`` through streamed_batch, as Invoiced and Fakturoid page."""

    sorts_without_values: frozenset[WorkSort] = frozenset()

    def __init__(self, vendor: Vendor, days: list[int | None], page_size: int) -> None:
        from gateway.state.work_snapshots import WorkSnapshots

        self.vendor = vendor
        self.records = sorted(
            (record(vendor, n, d) for n, d in enumerate(days)), key=WorkQuery().sort_key
        )
        self.page_size = page_size
        self.snapshots = WorkSnapshots()
        self.read: list[int] = []

    async def work_batch(self, query: WorkQuery, position: str | None) -> WorkBatch:
        from gateway.state.work_snapshots import streamed_batch

        async def read_page(page: int) -> tuple[list[WorkRecord], bool]:
            self.read.append(page)
            start = (page - 1) * self.page_size
            return self.records[start : start + self.page_size], start + self.page_size < len(
                self.records
            )

        return await streamed_batch(self.snapshots, query, position, read_page)


@pytest.mark.parametrize("size", [1, 3, 7, 50])
async def test_streamed_pages_are_read_once_in_a_walk(size: int) -> None:
    a = StreamedSource(INVOICED, list(range(0, 60, 2)), page_size=7)
    b = StreamedSource(FAKTUROID, [*range(1, 40, 4), None, None], page_size=4)
    merged = await collect([a, b], WorkQuery(), size)
    assert merged == sorted(a.records + b.records, key=WorkQuery().sort_key)
    assert a.read == [1, 2, 3, 4, 5] and b.read == [1, 2, 3]


async def test_a_kept_page_that_is_gone_is_read_again_from_its_number() -> None:
    a = StreamedSource(INVOICED, list(range(20)), page_size=8)
    first = await merge([a], WorkQuery(), {}, 5)
    position = first.end_state[INVOICED]
    assert position is not None and position.skip == 5 and position.position
    assert position.position.startswith("1.")
    await a.snapshots.clear()  # as a write through the gateway does
    second = await merge([a], WorkQuery(), first.end_state, 5)
    assert [r.item for r in first.records + second.records] == list(range(10))
    assert a.read == [1, 1, 2]


async def test_kept_pages_answer_only_their_query_and_page_and_are_bounded() -> None:
    from gateway.state.work_snapshots import WorkSnapshots

    now = [0.0]
    snapshots = WorkSnapshots(clock=lambda: now[0])
    records = [record(INVOICED, 1, 3)]
    batch = await snapshots.put_page(WorkQuery(), 2, records, "3")
    assert batch.position is not None and batch.position.startswith("2.")
    token = batch.position.split(".", 1)[1]
    assert await snapshots.get_page(token, WorkQuery(), 2) == batch
    assert await snapshots.get_page(token, WorkQuery(), 3) is None
    assert await snapshots.get_page(token, WorkQuery(completed=True), 2) is None
    now[0] = WorkSnapshots.TTL + 1
    assert await snapshots.get_page(token, WorkQuery(), 2) is None
    batches = [await snapshots.put_page(WorkQuery(), 1, records, None) for _ in range(300)]
    tokens = [str(b.position).split(".", 1)[1] for b in batches]
    assert await snapshots.get_page(tokens[0], WorkQuery(), 1) is None
    assert await snapshots.get_page(tokens[-1], WorkQuery(), 1) is not None
    assert len(tokens) - WorkSnapshots.PAGE_LIMIT == 300 - 256


@pytest.mark.parametrize(
    "position", ["0", "1.short", "1.AAAAAAAAAAAAAAAA.x", "snapshot:x", "-1", "1 ", "\uff11"]
)
def test_positions_of_a_form_never_handed_out_are_refused(position: str) -> None:
    from gateway.core.errors import BadUserInput
    from gateway.state.work_snapshots import check_position

    with pytest.raises(BadUserInput):
        check_position(position)
    check_position("12.AAAAAAAAAAAAAAAA")
    check_position("snapshot:AAAAAAAAAAAAAAAA")
