// Runs graphql-http's server audits against the gateway at argv[2] and prints one JSON
// line: every audit's id, name, status (ok, warn, notice, error) and, when not ok, why.
// With --csrf-header every request carries `Apollo-Require-Preflight: true`, as a
// browser app's GET queries must (the gateway's CSRF rule; see README "Cross-site requests").
import { auditServer } from 'graphql-http';

const [url, ...flags] = process.argv.slice(2);
const withCsrfHeader = flags.includes('--csrf-header');

const fetchFn = withCsrfHeader
  ? (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('Apollo-Require-Preflight', 'true');
      return fetch(input, { ...init, headers });
    }
  : fetch;

const results = await auditServer({ url, fetchFn });
const report = await Promise.all(
  results.map(async (result) => {
    const entry = { id: result.id, name: result.name, status: result.status };
    if (result.status !== 'ok') {
      entry.reason = result.reason;
      entry.httpStatus = result.response.status;
      entry.body = await result.response.text();
    }
    return entry;
  }),
);
process.stdout.write(JSON.stringify(report) + '\n');
