#!/usr/bin/env python3
"""A gatehouse HTTP agent in Python, standard library only (see docs/http-agent.md).

gatehouse POSTs one JSON request per message; this service answers with a stream of NDJSON lines
{"delta": "..."} so the chat shows the reply as it is written. Put your own agent in `answer()`
(a PraisonAI agent, a LangChain chain, a call to your model): yield the reply piece by piece.

    python3 agent.py                # listens on 127.0.0.1:8000 (PORT=0 picks a free port)

gatehouse.yaml:
    agent:
      type: http
      url: http://127.0.0.1:8000/agent
      history: true                 # send the session's earlier turns with each message
"""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def answer(text, history, principal):
    """Your agent goes here. This one counts the conversation and echoes, word by word."""
    turns = sum(1 for m in history if m["role"] == "user")
    reply = f"({turns} earlier messages) you said: {text}"
    for word in reply.split(" "):
        yield word + " "


class AgentHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path != "/agent":
            self.send_error(404)
            return
        length = int(self.headers.get("content-length", "0"))
        try:
            request = json.loads(self.rfile.read(length))
            text = request["text"]
        except (ValueError, KeyError, TypeError):
            self.send_error(400, "expected the gatehouse request JSON")
            return
        self.send_response(200)
        self.send_header("content-type", "application/x-ndjson")
        self.end_headers()
        try:
            for piece in answer(text, request.get("history", []), request.get("principal", {})):
                self.wfile.write((json.dumps({"delta": piece}) + "\n").encode("utf-8"))
                self.wfile.flush()
        except Exception as error:  # tell gatehouse the answer failed; it tells the user
            self.wfile.write((json.dumps({"error": {"code": type(error).__name__}}) + "\n").encode("utf-8"))

    def log_message(self, *args):
        pass  # never log conversation text


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8000"))), AgentHandler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/agent", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
