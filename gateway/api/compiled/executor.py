"""The seam: graphql-core builds this executor for each operation (coerced variables,
the chosen operation, fragments); a query a plan covers runs on the plan, anything
else on graphql-core's own machinery, unchanged."""

from __future__ import annotations

from typing import Any, TypeVar

from graphql import ExecutionResult, GraphQLError
from graphql.pyutils import AwaitableOrValue
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.api.compiled.plan import plan_cache
from gateway.api.compiled.run import Run
from gateway.api.compiled.selection import execute_fields

T = TypeVar("T")


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> AwaitableOrValue[Any]:
        fields = plan_cache(self.schema).root_fields(self) if serially is None else None
        if fields is None:
            return super().execute_operation(serially)
        try:
            data = execute_fields(Run(self), fields, self.root_value, None)
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self.finish(self.build_response(None))
        if self.is_awaitable(data):
            return self._awaited(data)
        return self._released(self.finish(self.build_response(data)))

    async def _awaited(self, data: Any) -> ExecutionResult:
        try:
            completed = await data
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self._released(self.build_response(None))  # type: ignore[return-value]
        return self._released(self.build_response(completed))  # type: ignore[return-value]

    def _released(self, result: T) -> T:
        """``result``, the executor's reference to itself dropped when nothing of the run
        goes on in the background: graphql-core's resolve-info helpers are its own bound
        methods, so every executor (and the request's context and loaders, which it
        holds) would otherwise wait for the cyclic collector."""
        if not self.background_futures and not self.pending_incremental_futures:
            del self.async_helpers
        return result
