import { performance } from "node:perf_hooks";
import { isPromiseLike } from "../../core/promise-like.js";
import type { StoreCallObserver } from "./prometheus.js";

/** Long-lived or lifecycle calls, not store round trips: passed through untimed. */
const UNTIMED = new Set<PropertyKey>(["subscribe", "close"]);

/**
 * The store as the gateway uses it, with every method call timed as `<name>.<method>` (e.g. `pairing.isPairedMany`),
 * synchronous or not, thrown or rejected. One wrapper for every backend and every injected store: nothing in a backend
 * knows it is measured. The wrapper inherits from the store (so `instanceof`, fields and `typeof store.x` checks are
 * unchanged) and has one own timed function per method found on the store and its prototypes, made once; methods run on
 * the store itself (`this` is the store, so private fields keep working), and so do getters. No Proxy: its trap on
 * every property read costs more than the timing.
 */
export function timedStore<T extends object>(store: T, name: string, observe: StoreCallObserver): T {
  const timedView = Object.create(store) as T;
  const seen = new Set<PropertyKey>();
  for (
    let level: object | null = store;
    level !== null && level !== Object.prototype;
    level = Object.getPrototypeOf(level) as object | null
  ) {
    for (const property of Reflect.ownKeys(level)) {
      if (seen.has(property)) continue;
      seen.add(property);
      const descriptor = Reflect.getOwnPropertyDescriptor(level, property)!;
      if (descriptor.get !== undefined) {
        Object.defineProperty(timedView, property, {
          get: () => Reflect.get(store, property, store),
          configurable: true,
        });
      } else if (typeof descriptor.value === "function" && property !== "constructor") {
        const method = descriptor.value as (...args: unknown[]) => unknown;
        const fn =
          UNTIMED.has(property) || typeof property !== "string"
            ? method.bind(store)
            : timed(method, store, `${name}.${property}`, observe);
        Object.defineProperty(timedView, property, { value: fn, configurable: true, writable: true });
      }
    }
  }
  return timedView;
}

/** `method` timed; its series is made at its first call, so methods never called through the gateway show nothing. */
function timed(
  method: (...args: unknown[]) => unknown,
  target: object,
  label: string,
  observe: StoreCallObserver,
): (...args: unknown[]) => unknown {
  let series: ((seconds: number, failed: boolean) => void) | undefined;
  return (...args: unknown[]) => {
    const record = (series ??= observe(label));
    const started = performance.now();
    let result: unknown;
    try {
      result = method.apply(target, args);
    } catch (error) {
      record((performance.now() - started) / 1000, true);
      throw error;
    }
    if (!isPromiseLike(result)) {
      record((performance.now() - started) / 1000, false);
      return result;
    }
    // Timed on a side branch: the caller gets the store's own promise, so waiting on it costs no extra step.
    result.then(
      () => record((performance.now() - started) / 1000, false),
      () => record((performance.now() - started) / 1000, true),
    );
    return result;
  };
}
