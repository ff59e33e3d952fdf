// One colour per vendor, the same on every run, so a vendor is recognised across
// operations. The registry's vendors have fixed, well-separated hues; any other (a
// vendor added later) takes one of the spare hues by its name, still stable.
const KNOWN = {
  invoiced: 'hsl(212, 80%, 52%)',
  zoho: 'hsl(24, 92%, 52%)',
  readydesk: 'hsl(275, 60%, 60%)',
  fakturoid: 'hsl(152, 62%, 40%)',
};
const SPARE = ['hsl(338, 78%, 55%)', 'hsl(46, 90%, 44%)', 'hsl(186, 72%, 40%)', 'hsl(0, 0%, 55%)'];

export function vendorColour(vendor) {
  if (KNOWN[vendor]) return KNOWN[vendor];
  let hash = 0;
  for (const char of vendor) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return SPARE[hash % SPARE.length];
}

export function statusKind(status) {
  if (status === null || status === undefined || status >= 500) return 'failed';
  if (status >= 400) return 'refused';
  return 'ok';
}
