"""What a vendor package gives the core: one :class:`VendorPlugin` object.

The core (app, settings, adapters, loaders, schema, cost estimate, sandboxes)
reads vendors only from ``gateway.registry``, a list of vendor packages, each of
which exports ``PLUGIN``. A plugin is cheap to import: the vendor's settings
class and constant are plain values, and everything heavier (its adapter,
loaders, GraphQL types, sandbox) is reached through factories that import it
when first called, so vendor modules may import the core without cycles.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from pydantic import Field
from pydantic_settings import BaseSettings

from gateway.core.configuration import (
    ConfigurationError,
    Setup,
    env_name,
    read_section,
    setup_of,
)
from gateway.core.ratelimit import Quota
from gateway.core.settings import GatewaySettings
from gateway.core.types import Vendor

if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette

    from gateway.core.work import WorkSource
    from gateway.state.changes import ChangeEvent
    from gateway.state.polling import ChangeFeed
    from gateway.upstream.client import Upstream, UpstreamPolicy


class VendorSettings(BaseSettings):
    """A vendor's settings section (its own env prefix); unset credentials disable it.

    ``required`` is declared once per vendor: the fields that together turn it on, one
    tuple per way of configuring it (a static token, or a client and a refresh token).
    Everything else is derived from it: ``configured``, the start-up line (on, off, or
    partly configured and what is missing), the variables `VENDOR_NOT_CONFIGURED` names
    and those the credentials warning asks to check (with ``check_on_refusal``).
    """

    required: ClassVar[tuple[tuple[str, ...], ...]] = ()
    # Further variables a refused credential may come from (an API address of another
    # region or of the vendor's sandbox), named with ``required`` in that warning.
    check_on_refusal: ClassVar[tuple[str, ...]] = ()

    # The read cache's windows (docs/freshness.md); each vendor declares its own defaults.
    # Seconds a read of this vendor is fresh (`<VENDOR>_CACHE_TTL`; 0: never cached); then
    # seconds it is still answered while one background call refreshes it; and seconds
    # past the fresh window it may stand in for the vendor failing or refusing a call.
    cache_ttl: float = Field(default=0.0, ge=0)
    cache_stale_while_revalidate: float = Field(default=0.0, ge=0)
    cache_stale_if_error: float = Field(default=0.0, ge=0)
    # Connections to the vendor at once (`<VENDOR>_MAX_CONNECTIONS`): what the vendor
    # allows, so the pool never holds throughput below the vendor's own limit.
    max_connections: int = Field(default=20, ge=1, le=1000)
    # Seconds between the change poller's rounds at least (`<VENDOR>_POLL_INTERVAL`): the
    # staleness it aims at; the vendor's quota under GATEWAY_POLL_SHARE may lengthen it.
    poll_interval: float = Field(default=10.0, gt=0)

    @property
    def setup(self) -> Setup:
        """How far ``required`` is set: on, off, or partly (and what is missing)."""
        return setup_of(self, self.required)

    @property
    def configured(self) -> bool:
        return self.setup.configured

    @property
    def credential_variables(self) -> tuple[str, ...]:
        """The variables to check when the vendor refuses the gateway's credentials."""
        cls = type(self)
        used = self.setup.used or self.setup.to_set
        return used + tuple(env_name(cls, field) for field in self.check_on_refusal)

    @property
    def outbound_quotas(self) -> tuple[Quota, ...]:
        """The vendor's request quota shared by everything using these credentials; the
        Upstream refuses calls past it (RATE_LIMITED) instead of letting the vendor do so."""
        return ()


class VendorAdapter(Protocol):
    """What the core needs of an adapter: its upstream (breaker, pool) and a close."""

    @property
    def upstream(self) -> Upstream: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ChangeAware(Protocol):
    """An adapter that keeps something of its own a change event makes stale (beyond the
    read cache, which every change event reaches): told of each event, without waiting."""

    def item_changed(self, event: ChangeEvent, relayed: bool) -> None: ...


class Sandbox(Protocol):
    """A vendor's emulator module: mounted at ``PREFIX`` by `task-gateway sandbox`."""

    @property
    def PREFIX(self) -> str: ...

    def create_app(self) -> Starlette: ...

    def env(self, base_url: str) -> dict[str, str]: ...


# What a field costs in upstream calls (see gateway.api.cost, which adds up the rules).
@dataclass(frozen=True, slots=True)
class FieldCost:
    calls: int  # per parent object, or per page for batched fields
    items: int | None = None  # a list page: how many objects its connection holds
    per_page: bool = False  # batched across a page of parents (one dataloader call)
    fan_out: int | None = None  # a plain list whose objects multiply nested costs


Args = Mapping[str, Any]
CostRule = Callable[[Args], FieldCost]


@dataclass(frozen=True, slots=True)
class VendorGraphQL:
    """A vendor's part of the schema: root-field mixins and the cost of its fields.

    ``costs`` maps ``(parent type, field)`` to the upstream calls the field makes
    (see gateway.api.cost); for an OAuth vendor each of these fields may also need
    a token first.
    """

    query: type | None = None
    mutation: type | None = None
    costs: Mapping[tuple[str, str], CostRule] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One verified webhook: the vendor's event id (duplicates are dropped by it) and the
    change it reports, or None for an event about something the gateway does not serve;
    ``more``: the changes it also reports (a record's parts named in its event)."""

    event_id: str
    change: ChangeEvent | None
    more: tuple[ChangeEvent, ...] = ()


class MalformedWebhook(ValueError):
    """A signed body that is not the vendor's event format."""


@dataclass(frozen=True, slots=True)
class VendorWebhooks:
    """How a vendor's webhooks are received (for vendors that document them).

    ``secret`` reads the shared secret from the vendor's settings (None: the endpoint is
    off); ``verify(body, headers, secret)`` checks the signature exactly as the vendor
    documents it (or, for a vendor that signs nothing, the secret itself), in constant
    time; ``decode(body)`` turns a verified body into a :class:`WebhookDelivery`, raising
    :class:`MalformedWebhook` on any other shape.
    """

    secret: Callable[[Any], bytes | None]
    verify: Callable[[bytes, Mapping[str, str], bytes], bool]
    decode: Callable[[bytes], WebhookDelivery]


S = TypeVar("S", bound=VendorSettings)
A = TypeVar("A", bound=VendorAdapter)
L = TypeVar("L")


@dataclass(frozen=True, eq=False)
class VendorPlugin(Generic[S, A, L]):
    """One vendor, as the core sees it.

    ``create_adapter`` builds the process-wide adapter from the vendor's settings;
    ``create_loaders`` builds its per-request dataloaders (a fresh object per
    operation, whose loaders are made on first use); ``graphql`` and ``sandbox``
    import the vendor's GraphQL module and emulator. ``probe_query`` is a cheap
    query that reaches the vendor, for the contract and breaker test suites.
    ``readiness_probe`` is the vendor's cheapest authenticated read, which
    `/readyz` runs (rarely, see gateway.http.readiness); it raises a GatewayError
    when the vendor cannot serve. A vendor without one is judged by its breaker.
    """

    vendor: Vendor
    settings: type[S]
    create_adapter: Callable[[S, UpstreamPolicy, httpx.AsyncBaseTransport | None], A]
    create_loaders: Callable[[A], L]
    graphql: Callable[[], VendorGraphQL]
    sandbox: Callable[[], Sandbox]
    probe_query: str
    # Its calls may be preceded by a token grant (counted in the call budget).
    oauth: bool = False
    # The adapter as a source of `workItems`, for vendors whose items are actionable work.
    work_source: Callable[[A], WorkSource] | None = None
    readiness_probe: Callable[[A], Awaitable[object]] | None = None
    # The vendor's cheapest delta read, polled for changes made outside the gateway.
    change_feed: Callable[[A], ChangeFeed] | None = None
    # Its webhook receiver, for vendors that document webhooks (POST /webhooks/<vendor>).
    webhooks: Callable[[], VendorWebhooks] | None = None


AnyPlugin = VendorPlugin[Any, Any, Any]

A_co = TypeVar("A_co", bound=VendorAdapter, covariant=True)
L_co = TypeVar("L_co", covariant=True)


@dataclass(frozen=True, slots=True)
class VendorKey(Generic[A_co, L_co]):
    """A vendor, typed with its adapter and loaders: how its GraphQL module reaches them
    (``context.adapters.of(KEY)``, ``context.loaders.of(KEY)``) without importing its
    PLUGIN, which sits above that module."""

    vendor: Vendor


T = TypeVar("T", bound=BaseSettings)


def _read(section: type[T], problems: list[str]) -> T | None:
    """``section`` from the environment, or None with its problems added to ``problems``."""
    try:
        return read_section(section)
    except ConfigurationError as exc:
        problems.extend(exc.problems)
        return None


class PluginSettings:
    """The gateway's section and one per vendor of ``plugins``, each read from the
    environment unless given (``gateway.config.Settings`` defaults ``plugins`` to the
    registry's)."""

    def __init__(
        self,
        *,
        gateway: GatewaySettings | None = None,
        sections: Iterable[VendorSettings] = (),
        plugins: Sequence[AnyPlugin],
    ) -> None:
        given = {type(section): section for section in sections}
        self.plugins: tuple[AnyPlugin, ...] = tuple(plugins)
        # Every section is read before any error is raised, so that one start names
        # every bad variable, not only the first.
        problems: list[str] = []
        own = gateway or _read(GatewaySettings, problems)
        read = {
            plugin.vendor: given.get(plugin.settings) or _read(plugin.settings, problems)
            for plugin in self.plugins
        }
        if problems or own is None:
            raise ConfigurationError(*problems)
        self.gateway = own
        self._sections: dict[Vendor, VendorSettings] = {
            vendor: section for vendor, section in read.items() if section is not None
        }

    def section(self, plugin: VendorPlugin[S, Any, Any]) -> S:
        """``plugin``'s settings section."""
        section = self._sections[plugin.vendor]
        assert isinstance(section, plugin.settings)
        return section
