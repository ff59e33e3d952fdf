import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { snapshot, subscribe } from './calls.js';
import { statusKind, vendorColour } from './vendors.js';

// The last operation's upstream calls as a waterfall, in a drawer under the editors as
// wide as the page, so a call's whole path fits beside its bar. Calls are in the order
// they started on one time axis: batching (one bar where there could be many), fan-out
// (bars side by side across vendors) and dependencies (a bar starting where another
// ends) show at a glance. Each vendor has its own colour, named in the legend.
const HEIGHT_KEY = 'task-gateway:drawer-height';
const OPEN_KEY = 'task-gateway:drawer-open';
const MIN_HEIGHT = 96;
const DEFAULT_HEIGHT = 260;

function storedHeight() {
  const value = Number(localStorage.getItem(HEIGHT_KEY));
  return Number.isFinite(value) && value >= MIN_HEIGHT ? value : DEFAULT_HEIGHT;
}

function clampHeight(height) {
  // Leave the editors room: the drawer never takes more than the page minus 200 px.
  return Math.round(Math.min(Math.max(height, MIN_HEIGHT), Math.max(MIN_HEIGHT, window.innerHeight - 200)));
}

// A tick every 1, 2 or 5 × 10^n ms, about five across the axis.
function ticks(span) {
  const rough = span / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? rough;
  const marks = [];
  for (let at = 0; at <= span + 1e-9; at += step) marks.push(at);
  return marks;
}

function ms(value) {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function useResize(setHeight) {
  const drag = useRef(null);
  const onPointerDown = useCallback((event) => {
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    const drawer = event.currentTarget.parentElement;
    drag.current = { y: event.clientY, height: drawer.getBoundingClientRect().height };
  }, []);
  const onPointerMove = useCallback((event) => {
    if (drag.current === null) return;
    setHeight(clampHeight(drag.current.height - (event.clientY - drag.current.y)));
  }, [setHeight]);
  const onPointerUp = useCallback(() => { drag.current = null; }, []);
  const onKeyDown = useCallback((event) => {
    const delta = { ArrowUp: 24, ArrowDown: -24 }[event.key];
    if (delta === undefined) return;
    event.preventDefault();
    setHeight((height) => clampHeight(height + delta));
  }, [setHeight]);
  return { onPointerDown, onPointerMove, onPointerUp, onKeyDown };
}

function Legend({ report, vendors }) {
  return (
    <ul className="tg-legend" aria-label="Vendors">
      {vendors.map((vendor) => (
        <li key={vendor} data-testid="upstream-vendor" data-vendor={vendor}>
          <span className="tg-swatch" style={{ background: vendorColour(vendor) }} />
          <span className="tg-legend-name">{vendor}</span>
          <small>
            {report.byVendor?.[vendor]?.count ?? 0} · {ms(report.byVendor?.[vendor]?.durationMs ?? 0)} ms
          </small>
        </li>
      ))}
    </ul>
  );
}

function Axis({ span }) {
  return (
    <div className="tg-axis" aria-hidden="true">
      {ticks(span).map((at) => (
        <span key={at} className="tg-tick" style={{ left: `${(at / span) * 100}%` }}>
          {ms(at)} ms
        </span>
      ))}
    </div>
  );
}

function Call({ call, span }) {
  const left = (call.startMs / span) * 100;
  const width = Math.max((call.durationMs / span) * 100, 0.4);
  const kind = statusKind(call.status);
  // The label sits after the bar, or before it when the bar ends near the right edge.
  const labelAfter = left + width < 72;
  const labelStyle = labelAfter
    ? { left: `calc(${left + width}% + 6px)` }
    : { right: `calc(${100 - left}% + 6px)` };
  return (
    <div className={`tg-call tg-${kind}`} role="row" data-testid="upstream-call" data-vendor={call.vendor}>
      <span className="tg-call-vendor" role="cell">
        <span className="tg-swatch" style={{ background: vendorColour(call.vendor) }} />
        {call.vendor}
      </span>
      <span className="tg-call-path" role="cell" data-testid="call-path">
        <b>{call.method}</b> {call.path}
      </span>
      <span className="tg-call-status" role="cell" data-testid="call-status">
        {call.status ?? 'no answer'}
      </span>
      <span className="tg-track" role="cell">
        <span
          className="tg-bar"
          data-testid="call-bar"
          style={{ left: `${left}%`, width: `${width}%`, background: vendorColour(call.vendor) }}
        />
        <span className="tg-bar-label" style={labelStyle}>
          <span data-testid="call-start">+{ms(call.startMs)}</span> ms ·{' '}
          <span data-testid="call-duration">{ms(call.durationMs)}</span> ms
        </span>
      </span>
    </div>
  );
}

function Calls({ report }) {
  const calls = [...(report.calls ?? [])].sort((a, b) => a.startMs - b.startMs);
  if (calls.length === 0) {
    return <p className="tg-drawer-hint">No upstream call: the gateway answered this one by itself.</p>;
  }
  const span = Math.max(1, ...calls.map((call) => call.startMs + call.durationMs));
  return (
    <div className="tg-calls" role="table" aria-label="Upstream calls">
      <div className="tg-calls-head" role="row">
        <span role="columnheader">Vendor</span>
        <span role="columnheader">Call</span>
        <span role="columnheader">Status</span>
        <span role="columnheader"><Axis span={span} /></span>
      </div>
      {calls.map((call, index) => (
        <Call key={index} call={call} span={span} />
      ))}
    </div>
  );
}

function Summary({ last }) {
  if (last === null) return <span className="tg-drawer-summary">Run an operation to see its calls to the vendors.</span>;
  const report = last.report;
  if (report === null) {
    return <span className="tg-drawer-summary">The answer carried no <code>upstreamCalls</code> extension.</span>;
  }
  const calls = report.calls ?? [];
  const vendors = new Set(calls.map((call) => call.vendor)).size;
  const span = Math.max(0, ...calls.map((call) => call.startMs + call.durationMs));
  return (
    <span className="tg-drawer-summary" data-testid="upstream-summary">
      {last.operationName ? <b>{last.operationName}</b> : 'Anonymous operation'}:{' '}
      {report.total} upstream {report.total === 1 ? 'call' : 'calls'}
      {vendors > 0 ? ` to ${vendors} ${vendors === 1 ? 'vendor' : 'vendors'} over ${ms(span)} ms` : ''}
      {` · ${ms(last.elapsedMs)} ms in all`}
    </span>
  );
}

export function UpstreamDrawer() {
  const last = useSyncExternalStore(subscribe, snapshot);
  const [height, setHeight] = useState(storedHeight);
  const [open, setOpen] = useState(() => localStorage.getItem(OPEN_KEY) !== 'false');
  const resize = useResize(setHeight);
  useEffect(() => localStorage.setItem(HEIGHT_KEY, String(height)), [height]);
  useEffect(() => localStorage.setItem(OPEN_KEY, String(open)), [open]);
  const report = last?.report ?? null;
  const vendors = report ? [...new Set((report.calls ?? []).map((call) => call.vendor))].sort() : [];
  return (
    <section
      className="graphiql-container tg-drawer"
      data-testid="upstream-drawer"
      data-open={open}
      style={open ? { height: `${clampHeight(height)}px` } : undefined}
      aria-label="Upstream calls"
    >
      {open && (
        <div
          className="tg-drawer-grip"
          role="separator"
          aria-orientation="horizontal"
          aria-label="Resize the upstream calls drawer"
          tabIndex={0}
          {...resize}
        />
      )}
      <header className="tg-drawer-head">
        <button
          type="button"
          className="tg-drawer-toggle"
          aria-expanded={open}
          onClick={() => setOpen((value) => !value)}
        >
          <span aria-hidden="true">{open ? '▾' : '▸'}</span> Upstream calls
        </button>
        <Summary last={last} />
        {report && <Legend report={report} vendors={vendors} />}
      </header>
      {open && report && (
        <div className="tg-drawer-body" data-testid="upstream-waterfall">
          <Calls report={report} />
        </div>
      )}
    </section>
  );
}
