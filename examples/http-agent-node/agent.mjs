// A gatehouse HTTP agent in Node.js, no dependencies (see docs/http-agent.md).
//
// gatehouse POSTs one JSON request per message; this service answers with server-sent events
// `data: {"delta": "..."}` and a final `data: [DONE]`, so the chat shows the reply as it is written.
// Put your own agent in answer(): yield the reply piece by piece.
//
//   node agent.mjs          # listens on 127.0.0.1:8000 (PORT=0 picks a free port)
//
// gatehouse.yaml:
//   agent:
//     type: http
//     url: http://127.0.0.1:8000/agent
//     history: true
import { createServer } from "node:http";

async function* answer(text, history) {
  const earlier = history.filter((m) => m.role === "user").length;
  for (const word of `(${earlier} earlier messages) you said: ${text}`.split(" ")) yield `${word} `;
}

const server = createServer(async (req, res) => {
  if (req.method !== "POST" || req.url !== "/agent") return res.writeHead(404).end();
  let request;
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (typeof request.text !== "string") throw new Error("no text");
  } catch {
    return res.writeHead(400).end("expected the gatehouse request JSON");
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  try {
    for await (const piece of answer(request.text, request.history ?? []))
      res.write(`data: ${JSON.stringify({ delta: piece })}\n\n`);
    res.end("data: [DONE]\n\n");
  } catch (error) {
    res.end(`data: ${JSON.stringify({ error: { code: error?.name ?? "Error" } })}\n\n`);
  }
});

server.listen(Number(process.env.PORT ?? 8000), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/agent`);
});
