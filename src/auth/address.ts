import { BlockList, isIP } from "node:net";

/**
 * One canonical spelling per address, so allowlists and rate-limit keys cannot be dodged by re-spelling:
 * IPv4-mapped IPv6 (`::ffff:1.2.3.4`, `::ffff:102:304`, `0:0:0:0:0:ffff:1.2.3.4`) becomes `1.2.3.4`; IPv6 is compressed and
 * lower-cased (via the WHATWG URL serialiser); brackets and zone ids are dropped. Anything that is not an IP comes back
 * trimmed and lower-cased, and matches no address list.
 */
export function normalizeAddress(address: string): string {
  let value = String(address ?? "")
    .trim()
    .toLowerCase();
  if (value.startsWith("[") && value.endsWith("]")) value = value.slice(1, -1);
  const zone = value.indexOf("%");
  if (zone >= 0) value = value.slice(0, zone);
  if (isIP(value) !== 6) return value;
  const canonical = new URL(`http://[${value}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return canonical;
  const high = Number.parseInt(mapped[1] ?? "0", 16);
  const low = Number.parseInt(mapped[2] ?? "0", 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/** A set of addresses and CIDR ranges (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`), matched after normalisation. */
export class AddressList {
  private readonly list = new BlockList();

  constructor(entries: readonly string[], field = "addresses") {
    if (!Array.isArray(entries)) throw new TypeError(`${field} must be an array of IP addresses or CIDR ranges`);
    entries.forEach((entry, index) => this.add(entry, `${field}[${index}]`));
  }

  has(address: string): boolean {
    const normalized = normalizeAddress(address);
    const family = isIP(normalized);
    if (family === 0) return false;
    return this.list.check(normalized, family === 4 ? "ipv4" : "ipv6");
  }

  private add(entry: unknown, field: string): void {
    if (typeof entry !== "string") throw new TypeError(`${field} must be a string`);
    const [rawAddress = "", prefix, ...rest] = entry.split("/");
    const address = normalizeAddress(rawAddress);
    const family = isIP(address);
    if (family === 0 || rest.length > 0)
      throw new TypeError(`${field} must be an IP address or CIDR range, got "${entry}"`);
    const type = family === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) {
      this.list.addAddress(address, type);
      return;
    }
    const bits = Number(prefix);
    const max = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(prefix) || bits > max)
      throw new TypeError(`${field} has an invalid prefix length in "${entry}"`);
    this.list.addSubnet(address, bits, type);
  }
}

const LOOPBACK = new AddressList(["127.0.0.0/8", "::1"], "loopback");

/** 127.0.0.0/8 or ::1, in any spelling (`::ffff:127.0.0.1` included). */
export function isLoopbackAddress(address: string): boolean {
  return LOOPBACK.has(address);
}
