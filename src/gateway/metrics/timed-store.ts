import { performance } from "node:perf_hooks";
import { isPromiseLike } from "../../core/promise-like.js";
import type { StoreCallObserver } from "./prometheus.js";

/** Long-lived or lifecycle calls, not store round trips: passed through untimed. */
const UNTIMED = new Set<PropertyKey>(["subscribe", "close", "constructor"]);

/**
 * The store as the gateway uses it, with every method call timed as `<name>.<method>` (e.g. `pairing.isPairedMany`),
 * synchronous or not, thrown or rejected. One wrapper for every backend and every injected store: nothing in a backend
 * knows it is measured. Methods run on the store itself (`this` is the store, so private fields keep working); the
 * wrapped functions are made once per method.
 */
export function timedStore<T extends object>(store: T, name: string, observe: StoreCallObserver): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      let fn = wrapped.get(property);
      if (fn === undefined) {
        const method = value as (...args: unknown[]) => unknown;
        fn = UNTIMED.has(property) || typeof property !== "string" ? method.bind(target) : timed(method, target, observe(`${name}.${property}`));
        wrapped.set(property, fn);
      }
      return fn;
    },
  });
}

function timed(method: (...args: unknown[]) => unknown, target: object, record: (seconds: number, failed: boolean) => void): (...args: unknown[]) => unknown {
  return (...args: unknown[]) => {
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
    // A real promise is chained directly (one step less for the caller than wrapping it again).
    const promise = result instanceof Promise ? (result as Promise<unknown>) : Promise.resolve(result);
    return promise.then(
      (value) => {
        record((performance.now() - started) / 1000, false);
        return value;
      },
      (error: unknown) => {
        record((performance.now() - started) / 1000, true);
        throw error;
      },
    );
  };
}
