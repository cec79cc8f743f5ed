import { describe, expect, it } from "vitest";
import { StoreDeadlineError, withDeadline } from "../src/core/deadline.js";

const never = (): Promise<never> => new Promise<never>(() => {});
const later = <T>(value: T, ms: number): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));

describe("withDeadline (one shared timer per deadline length)", () => {
  it("passes through synchronous and asynchronous answers, and turns a synchronous throw into a rejection", async () => {
    expect(await withDeadline("op", () => 7)).toBe(7);
    expect(await withDeadline("op", async () => "x")).toBe("x");
    expect(await withDeadline("op", () => undefined)).toBeUndefined();
    const thrown = new RangeError("sync");
    const promise = withDeadline("op", () => {
      throw thrown;
    });
    await expect(promise).rejects.toBe(thrown);
    const failed = new TypeError("async");
    await expect(withDeadline("op", () => Promise.reject(failed))).rejects.toBe(failed);
  });

  it("rejects a call that never answers with StoreDeadlineError naming the operation and the deadline", async () => {
    const error = await withDeadline("pairing.isPaired", never, 20).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreDeadlineError);
    expect((error as StoreDeadlineError).operation).toBe("pairing.isPaired");
    expect((error as StoreDeadlineError).deadlineMs).toBe(20);
    expect((error as Error).message).toBe("pairing.isPaired did not answer within 20 ms");
  });

  it("among many calls under the same deadline fails exactly the ones that hang, in any order", async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        withDeadline(`call ${i}`, () => (i % 3 === 0 ? never() : later(i, i % 2)), 30).then(
          (value) => ({ i, value }),
          (error: unknown) => ({ i, error }),
        ),
      ),
    );
    for (const outcome of outcomes) {
      if (outcome.i % 3 === 0) {
        expect(outcome).toMatchObject({ error: expect.any(StoreDeadlineError) });
        expect((outcome as { error: StoreDeadlineError }).error.operation).toBe(`call ${outcome.i}`);
      } else expect(outcome).toEqual({ i: outcome.i, value: outcome.i });
    }
  });

  it("keeps watching calls that start after earlier ones settled or timed out (the shared timer re-arms)", async () => {
    await expect(withDeadline("first", never, 15)).rejects.toBeInstanceOf(StoreDeadlineError);
    expect(await withDeadline("quick", () => later("ok", 1), 15)).toBe("ok");
    const [a, b] = await Promise.allSettled([withDeadline("a", never, 15), withDeadline("b", () => later("b", 2), 15)]);
    expect(a.status).toBe("rejected");
    expect(b).toEqual({ status: "fulfilled", value: "b" });
    // A different deadline length has its own queue: the short one fails without waiting for the long one.
    const long = withDeadline("long", () => later("long", 40), 5_000);
    await expect(withDeadline("short", never, 10)).rejects.toMatchObject({ operation: "short", deadlineMs: 10 });
    expect(await long).toBe("long");
  });

  it("settled calls are let go as new ones come, and a hanging call among thousands that settle still fails on time", async () => {
    const quick = (from: number) =>
      Promise.all(Array.from({ length: 3_000 }, (_, i) => withDeadline("quick", async () => from + i, 40)));
    expect((await quick(0)).at(-1)).toBe(2_999);
    const first = withDeadline("first hang", never, 40).catch((e: unknown) => e);
    // These settle behind the hanging call at the front of the queue; it must not hide them, nor they it.
    expect((await quick(3_000)).at(-1)).toBe(5_999);
    expect(await first).toMatchObject({ operation: "first hang", deadlineMs: 40 });
    const second = withDeadline("second hang", never, 40).catch((e: unknown) => e);
    expect((await quick(6_000)).at(-1)).toBe(8_999);
    expect(await withDeadline("late answer", () => later("ok", 5), 40)).toBe("ok");
    expect(await second).toMatchObject({ operation: "second hang", deadlineMs: 40 });
  });

  it("an answer arriving after the deadline does not undo the rejection", async () => {
    const outcome = await withDeadline("slow", () => later("late", 60), 10).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    expect(outcome).toMatchObject({ error: expect.any(StoreDeadlineError) });
  });

  it("treats deadline lengths setTimeout cannot use (0, negative, NaN) as 1 ms, as setTimeout does", async () => {
    for (const ms of [0, -5, Number.NaN]) {
      await expect(withDeadline("odd", never, ms)).rejects.toBeInstanceOf(StoreDeadlineError);
      expect(await withDeadline("odd", () => 3, ms)).toBe(3);
    }
  });
});
