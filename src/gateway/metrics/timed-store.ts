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
        fn = UNTIMED.has(property) || typeof property !== "string" ? method.bind(target) : timed(method, target, `${name}.${property}`, observe);
        wrapped.set(property, fn);
      }
      return fn;
    },
  });
}

function timed(method: (...args: unknown[]) => unknown, target: object, label: string, observe: StoreCallObserver): (...args: unknown[]) => unknown {
  return (...args: unknown[]) => {
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    let result: unknown;
    try {
      result = method.apply(target, args);
    } catch (error) {
      observe(label, seconds(), true);
      throw error;
    }
    if (!isPromiseLike(result)) {
      observe(label, seconds(), false);
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        observe(label, seconds(), false);
        return value;
      },
      (error: unknown) => {
        observe(label, seconds(), true);
        throw error;
      },
    );
  };
}
