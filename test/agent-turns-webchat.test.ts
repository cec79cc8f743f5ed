import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connectWithToken, startGateway, USER_TOKEN, type TestGateway, type TestSocket } from "./gateway-helpers.js";
import { LocalModelServer } from "./openai-server.js";

// Conversation memory, one turn at a time, /stop and /new, through a WebSocket client and the real openai client.
describe("agent turns over the WebSocket", () => {
  let model: LocalModelServer;
  let gw: TestGateway;
  let socket: TestSocket;

  beforeEach(async () => {
    model = new LocalModelServer({ apiKey: "none" });
    const baseUrl = await model.listen();
    gw = await startGateway({
      agent: { type: "openai", baseUrl, model: "m" },
      conversation: { maxWaiting: 1, maxTurns: 2 },
    });
    socket = (await connectWithToken(gw.wsUrl, USER_TOKEN)).socket;
  });
  afterEach(async () => {
    socket.close();
    await gw.stop();
    await model.close();
  });

  it("sends the session's earlier turns with each message, bounded, and /new starts afresh", async () => {
    await socket.request(1, "chat.send", { text: "one" });
    await socket.request(2, "chat.send", { text: "two" });
    await socket.request(3, "chat.send", { text: "three" });
    const third = model.requests[2]!.body.messages.map((m) => m.content);
    // maxTurns 2: the first turn is forgotten once the third is asked.
    expect(third).toEqual(["one", "you said: one", "two", "you said: two", "three"]);
    const fourth = model.requests.length;
    const reset = await socket.request(4, "chat.send", { text: "/new" });
    expect(reset.payload.text).toMatch(/fresh conversation/);
    expect(model.requests).toHaveLength(fourth);
    await socket.request(5, "chat.send", { text: "hello again" });
    expect(model.requests.at(-1)!.body.messages.map((m) => m.content)).toEqual(["hello again"]);
  });

  it("keeps another socket's session (another principal's conversation) apart", async () => {
    await socket.request(1, "chat.send", { text: "my secret" });
    const other = (await connectWithToken(gw.wsUrl, USER_TOKEN)).socket;
    await other.request(1, "chat.send", { text: "what was said?" });
    expect(model.requests[1]!.body.messages.map((m) => m.content)).toEqual(["what was said?"]);
    other.close();
  });

  it("a second message waits for the running answer; past the bounded queue the sender is told to wait", async () => {
    model.setTiming({ tokenIntervalMs: 60 });
    model.next({ kind: "reply", text: "a slow answer in six words" });
    socket.send({ type: "req", id: "a", method: "chat.send", params: { text: "first" } });
    await model.waitForRequests(1);
    socket.send({ type: "req", id: "b", method: "chat.send", params: { text: "second" } });
    const full = await socket.request("c", "chat.send", { text: "third" });
    expect(full.ok).toBe(false);
    expect(full.error.message).toMatch(/Still answering/);
    const first = await socket.next((f) => f.type === "res" && f.id === "a");
    expect(first.payload.text).toBe("a slow answer in six words");
    const second = await socket.next((f) => f.type === "res" && f.id === "b", 5_000);
    expect(second.payload.text).toBe("you said: second");
    // The second request reached the model only after the first answer was complete, with it as history.
    expect(model.requests[1]!.body.messages.map((m) => m.content)).toEqual([
      "first",
      "a slow answer in six words",
      "second",
    ]);
  });

  it("/stop cancels the running answer: the model request is aborted and nothing of it is remembered", async () => {
    model.setTiming({ tokenIntervalMs: 200 });
    model.next({ kind: "reply", text: "this answer takes a long long time to finish" });
    socket.send({ type: "req", id: "long", method: "chat.send", params: { text: "tell me everything" } });
    await socket.next((f) => f.type === "event" && f.event === "chat.delta" && f.payload.id === "long");
    const stop = await socket.request("s", "chat.send", { text: "/stop" });
    expect(stop.payload.text).toBe("Stopped.");
    await model.waitForDisconnect();
    const stopped = await socket.next((f) => f.type === "res" && f.id === "long");
    expect(stopped.ok).toBe(true);
    expect(stopped.payload.text.length).toBeLessThan("this answer takes a long long time to finish".length);
    model.setTiming({ tokenIntervalMs: 0 });
    await socket.request("n", "chat.send", { text: "next" });
    expect(model.requests.at(-1)!.body.messages.map((m) => m.content)).toEqual(["next"]);
    expect((await socket.request("s2", "chat.send", { text: "/stop" })).payload.text).toMatch(/Nothing to stop/);
  });
});
