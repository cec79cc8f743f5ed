import { describe, expect, it } from "vitest";
import { AddressList, normalizeAddress } from "../src/auth/address.js";

describe("normalizeAddress", () => {
  it.each([
    ["::ffff:1.2.3.4", "1.2.3.4"],
    ["::FFFF:127.0.0.1", "127.0.0.1"],
    ["::ffff:7f00:1", "127.0.0.1"],
    ["0:0:0:0:0:ffff:10.0.0.1", "10.0.0.1"],
    ["[::1]", "::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["FE80::1%eth0", "fe80::1"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    [" 10.1.2.3 ", "10.1.2.3"],
    ["not-an-ip", "not-an-ip"],
  ])("%s -> %s", (input, expected) => {
    expect(normalizeAddress(input)).toBe(expected);
  });
});

describe("AddressList", () => {
  it("matches addresses and CIDR ranges whatever the spelling", () => {
    const list = new AddressList(["10.0.0.0/8", "192.168.1.5", "fd00::/8"]);
    expect(list.has("10.200.3.4")).toBe(true);
    expect(list.has("::ffff:10.200.3.4")).toBe(true);
    expect(list.has("192.168.1.5")).toBe(true);
    expect(list.has("192.168.1.6")).toBe(false);
    expect(list.has("fd12::1")).toBe(true);
    expect(list.has("11.0.0.1")).toBe(false);
    expect(list.has("")).toBe(false);
    expect(list.has("garbage")).toBe(false);
  });

  it.each([["10.0.0.0/33"], ["10.0.0.0/x"], ["hostname"], ["1.2.3.4/8/9"]])("refuses %s naming the entry", (entry) => {
    expect(() => new AddressList(["127.0.0.1", entry], "proxies")).toThrow(/proxies\[1\]/);
  });
});
