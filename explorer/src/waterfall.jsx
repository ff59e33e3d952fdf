import { useSyncExternalStore } from 'react';
import { snapshot, subscribe } from './calls.js';

// Bars are placed on one time axis for the whole operation, grouped per vendor, so
// batching (one bar where there could be many) and fan-out (bars side by side across
// vendors) show at a glance.
function statusClass(status) {
  if (status === null || status === undefined) return 'failed';
  if (status >= 500) return 'failed';
  if (status >= 400) return 'refused';
  return 'ok';
}

function Bar({ call, span }) {
  const left = (call.startMs / span) * 100;
  const width = Math.max((call.durationMs / span) * 100, 0.5);
  const label = `${call.method} ${call.path} → ${call.status ?? 'no answer'}`;
  return (
    <li className="tg-waterfall-row" data-testid="upstream-call" title={label}>
      <span className="tg-waterfall-label">
        {call.method} {call.path}
      </span>
      <span className="tg-waterfall-track">
        <span
          className={`tg-waterfall-bar tg-${statusClass(call.status)}`}
          style={{ left: `${left}%`, width: `${width}%` }}
        />
      </span>
      <span className="tg-waterfall-figures">
        <span data-testid="call-status">{call.status ?? '—'}</span>{' '}
        <span data-testid="call-start">+{call.startMs.toFixed(1)}</span>{' '}
        <span data-testid="call-duration">{call.durationMs.toFixed(1)} ms</span>
      </span>
    </li>
  );
}

export function Waterfall() {
  const last = useSyncExternalStore(subscribe, snapshot);
  if (last === null) {
    return (
      <div className="tg-waterfall">
        <div className="graphiql-doc-explorer-title">Upstream calls</div>
        <p>Run an operation: its calls to the vendors are drawn here, per vendor, on one time axis.</p>
      </div>
    );
  }
  const report = last.report;
  if (report === null) {
    return (
      <div className="tg-waterfall">
        <div className="graphiql-doc-explorer-title">Upstream calls</div>
        <p>The answer carried no <code>upstreamCalls</code> extension.</p>
      </div>
    );
  }
  const calls = report.calls ?? [];
  const span = Math.max(1, ...calls.map((call) => call.startMs + call.durationMs));
  const vendors = [...new Set(calls.map((call) => call.vendor))];
  return (
    <div className="tg-waterfall" data-testid="upstream-waterfall">
      <div className="graphiql-doc-explorer-title">Upstream calls</div>
      <p data-testid="upstream-summary">
        {report.total} upstream {report.total === 1 ? 'call' : 'calls'}
        {vendors.length > 0 ? ` to ${vendors.length} ${vendors.length === 1 ? 'vendor' : 'vendors'}` : ''}
        {' '}over {span.toFixed(1)} ms
        {last.operationName ? ` (${last.operationName})` : ''}
      </p>
      {vendors.map((vendor) => (
        <section key={vendor} className="tg-waterfall-vendor" data-testid="upstream-vendor" data-vendor={vendor}>
          <h3>
            {vendor} <small>{report.byVendor?.[vendor]?.count ?? 0} · {report.byVendor?.[vendor]?.durationMs ?? 0} ms</small>
          </h3>
          <ul>
            {calls
              .filter((call) => call.vendor === vendor)
              .map((call, index) => (
                <Bar key={index} call={call} span={span} />
              ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

function WaterfallIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" fill="currentColor" aria-hidden="true">
      <rect x="3" y="5" width="8" height="3" rx="1" />
      <rect x="7" y="10.5" width="10" height="3" rx="1" />
      <rect x="13" y="16" width="8" height="3" rx="1" />
    </svg>
  );
}

export const waterfallPlugin = {
  title: 'Upstream calls',
  icon: WaterfallIcon,
  content: Waterfall,
};
