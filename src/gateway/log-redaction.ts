/** Field names whose values are never written, at the top of a line or up to two levels down (e.g. req.headers.cookie). */
const SECRET_KEYS = [
  "token",
  "code",
  "secret",
  "password",
  "cookie",
  "authorization",
  "ticket",
  "apiKey",
  '"set-cookie"',
  '"x-api-key"',
];

/** pino `redact` paths for SECRET_KEYS. */
export const REDACT_PATHS: string[] = SECRET_KEYS.flatMap((key) => {
  const at = key.startsWith('"') ? `[${key}]` : `.${key}`;
  return [key.startsWith('"') ? `[${key}]` : key, `*${at}`, `*.*${at}`];
});

export const REDACTED = "[redacted]";

/** `scheme://user:password@` in a URL (a store URL in an error message, say): the password goes. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]+@/gi;
/** `Bearer <token>` quoted in an error message. */
const BEARER = /\b(Bearer\s+)[^\s"',;]+/gi;

/** A string value with any URL password and bearer token taken out. */
export function scrubText(text: string): string {
  return text.replace(URL_PASSWORD, `$1${REDACTED}@`).replace(BEARER, `$1${REDACTED}`);
}

/**
 * The fields of one line with passwords in URLs and bearer tokens taken out of every string, in plain objects and
 * arrays up to a few levels deep (objects of other kinds, such as fastify's request, are left to their serializers).
 */
export function scrubFields(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return scrubText(value);
  if (depth > 3 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((entry) => scrubFields(entry, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) out[key] = scrubFields(entry, depth + 1);
  return out;
}

/** A request's URL for the log: the path only; a query (a webhook's verify token, say) shows as `?…`. */
export function loggedUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const query = url.indexOf("?");
  return query < 0 ? url : `${url.slice(0, query)}?…`;
}
