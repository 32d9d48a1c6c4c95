// The access-log date `05/Dec/2026:21:33:54 +0000` (NGINX $time_local) or
// `06/Feb/2009:12:14:14.655` (HAProxy's request date, local time without a zone: read as UTC,
// since only the gaps between requests matter for a replay).
export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const LOG_DATE = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(?: ([+-])(\d{2})(\d{2}))?$/;

/** Epoch ms of a log date; undefined when it is not one. */
export function parseLogDate(text: string): number | undefined {
  const m = LOG_DATE.exec(text);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[2]);
  if (month < 0) return undefined;
  const ms = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) + (m[7] ? Number(m[7]) * 1000 : 0);
  const zoneMs = m[8] ? (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) * 60_000 : 0;
  return Number.isFinite(ms) ? ms - zoneMs : undefined;
}

/** `GET /path HTTP/1.1` → method and path; undefined when the request line is anything else. */
export function parseRequestLine(text: string): { method: string; path: string } | undefined {
  const m = /^([A-Z]+) (\/\S*)(?: HTTP\/\d(?:\.\d)?)?$/.exec(text);
  return m ? { method: m[1], path: m[2] } : undefined;
}
