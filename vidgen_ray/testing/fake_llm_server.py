"""A local HTTP server speaking the Gemini REST API and the OpenAI chat API, for tests.

``POST /v1beta/models/{model}:generateContent`` (and ``/v1/``, where google-genai 3.x
sends it) answers as Gemini does (candidates[0].content
.parts[0].text, usageMetadata, modelVersion; errors as ``{"error": {"code", "message",
"status", "details"}}``; a wrong ``x-goog-api-key`` gets Gemini's 400 API_KEY_INVALID), and
``POST /v1/chat/completions`` as OpenAI does. Each test scripts its replies in a queue
(answers, malformed JSON, errors with Retry-After, slow answers); with the queue empty the
server plays a model that enriches the parsed script in the prompt, or writes the script
a write prompt asks for (``storyteller``).
Every request is recorded with its arrival time. Loopback only; ``shutdown()`` stops it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A short script of two scenes and two characters that the tests analyse.
SCRIPT = """# Harbour

## Dusk

Waves broke on the harbour wall.

MARA: The boats are late tonight.

ELIAS: They will come.

## Night

Rain hammered the windows.

MARA: Light the lamp.
"""

GEMINI_PATH = re.compile(r"^/v1(?:beta)?/models/([^/:]+):generateContent$")  # SDK 3.x: /v1
OPENAI_PATH = "/v1/chat/completions"
STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
          404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE",
          504: "DEADLINE_EXCEEDED"}


@dataclass
class Reply:
    status: int = 200
    text: str | None = None          # the model's answer, wrapped in the protocol's envelope
    message: str = ""                # an error's message
    details: list = field(default_factory=list)  # Gemini error details (RetryInfo...)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0               # seconds before answering (timeouts)
    finish: str = "STOP"             # Gemini's finishReason; MAX_TOKENS maps to "length"


def answer(text: str | dict, delay: float = 0.0, finish: str = "STOP") -> Reply:
    return Reply(text=text if isinstance(text, str) else json.dumps(text), delay=delay,
                 finish=finish)


def error(status: int, message: str = "", retry_after: float | None = None,
          details: list | None = None) -> Reply:
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return Reply(status=status, message=message or STATUS.get(status, "error"),
                 details=details or [], headers=headers)


@dataclass
class Recorded:
    time: float
    path: str
    headers: dict[str, str]
    body: dict

    @property
    def prompt(self) -> str:
        if "contents" in self.body:
            return self.body["contents"][0]["parts"][0]["text"]
        return self.body["messages"][-1]["content"]


class FakeLLMServer:
    def __init__(self, api_key: str = "test-key",
                 default: Callable[[Recorded], Reply] | None = None):
        self.api_key = api_key
        self.default = default or storyteller
        self.replies: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def push(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def next_reply(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            scripted = self.replies.popleft() if self.replies else None
        return scripted or self.default(recorded)

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLMServer:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()


def _handler(server: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet tests
            pass

        def do_POST(self) -> None:  # noqa: N802 (the http.server name)
            arrived = time.time()
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            gemini = GEMINI_PATH.match(self.path.split("?")[0])
            if not gemini and self.path != OPENAI_PATH:
                return self._send(404, {"error": {"code": 404, "message": "no such path",
                                                  "status": "NOT_FOUND"}})
            recorded = Recorded(arrived, self.path, dict(self.headers), body)
            if gemini and self.headers.get("x-goog-api-key") != server.api_key:
                with server._lock:
                    server.requests.append(recorded)
                return self._send(400, _gemini_error(Reply(400, message=(
                    "API key not valid. Please pass a valid API key."), details=[{
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID", "domain": "googleapis.com"}])))
            reply = server.next_reply(recorded)
            if reply.delay:
                time.sleep(reply.delay)
            if gemini:
                payload = (_gemini_answer(reply.text or "", gemini[1], reply.finish)
                           if reply.status == 200 else _gemini_error(reply))
            else:
                payload = (_openai_answer(reply.text or "", body.get("model", "?"), reply.finish)
                           if reply.status == 200 else _openai_error(reply))
            self._send(reply.status, payload, reply.headers)

        def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
            data = json.dumps(payload).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

    return Handler


def _gemini_answer(text: str, model: str, finish: str = "STOP") -> dict:
    return {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"},
                            "finishReason": finish, "index": 0}],
            "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": len(text) // 4,
                              "totalTokenCount": 100 + len(text) // 4},
            "modelVersion": model, "responseId": "fake-response"}


def _gemini_error(reply: Reply) -> dict:
    return {"error": {"code": reply.status, "message": reply.message,
                      "status": STATUS.get(reply.status, "UNKNOWN"), "details": reply.details}}


def _openai_answer(text: str, model: str, finish: str = "STOP") -> dict:
    reason = "length" if finish == "MAX_TOKENS" else "stop"
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "finish_reason": reason,
                                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": len(text) // 4,
                      "total_tokens": 100 + len(text) // 4}}


def _openai_error(reply: Reply) -> dict:
    return {"error": {"message": reply.message, "type": "server_error" if reply.status >= 500
                      else "invalid_request_error", "code": reply.status}}


# ---- a model that follows the prompt -------------------------------------------------------

def parsed_script(prompt: str) -> dict:
    """The parsed script JSON our prompt carries (see analysis/llm_prompt.py)."""
    start = prompt.index("The parsed script:\n") + len("The parsed script:\n")
    return json.JSONDecoder().raw_decode(prompt[start:])[0]


def part_number(prompt: str) -> int:
    match = re.search(r"This is part (\d+) of", prompt)
    return int(match[1]) if match else 1


def enrich(parsed: dict, part: int = 1) -> dict:
    """A realistic answer: the parsed lines untouched, a picture, mood and cast added, and a
    generated motion clip asked for where rain falls."""
    board = json.loads(json.dumps(parsed))
    for number, character in enumerate(board.get("characters", [])):
        character.setdefault("gender", ("female", "male")[number % 2])  # keeps the parsed one
        character["age"] = ("adult", "old")[number % 2]
        character["description"] = (f"{character['name'].title()}, an {character['age']} "
                                    f"{character['gender']} in a grey wool coat (part {part})")
    for scene in board.get("scenes", []):
        scene["description"] = ("Wide shot, soft evening light, painterly: "
                                + (scene.get("description") or scene.get("title") or "a room"))
        scene["mood"] = scene.get("mood", "calm")
        scene["ambience"] = scene.get("ambience", "wind")
        scene["characters"] = sorted({line["speaker"] for line in scene.get("lines", [])
                                      if line.get("speaker", "NARRATOR") != "NARRATOR"})
        if scene.get("lines"):
            scene["sfx"] = [{"name": "bell", "line": 0}]
        said = " ".join(line.get("text", "") for line in scene.get("lines", []))
        if "rain" in said.lower() and not scene.get("media"):  # where movement matters
            scene["motion"] = "clip"
            scene["motion_prompt"] = "Slow dolly in, rain streaks the window."
    return board


WRITE_MARK = "Write the script of a short narrated video"  # analysis/writer.py's prompt
_FILLER_TEXT = ("The light moves slowly over the water while the town below wakes up and "
                "the first boats leave the harbour for the open sea")
_FILLER = _FILLER_TEXT.split()


def written_script(prompt: str, scenes: int | None = None, words: int | None = None) -> str:
    """A Markdown script as the write prompt asks (its "Scenes:", "Length: about N spoken
    words" and "Topic:" lines); ``scenes``/``words`` override them (a wrong answer)."""
    scenes = scenes or int(re.search(r"^Scenes: (\d+)", prompt, re.MULTILINE)[1])
    words = words or int(re.search(r"^Length: about (\d+) spoken words", prompt,
                                   re.MULTILINE)[1])
    topic = re.search(r"^Topic: (.+)$", prompt, re.MULTILINE)[1].strip()
    dialogue = ("ANNA: Look, it is starting.", "BEN: I can see it now.")  # 5 + 5 words
    narration = max(3, words // scenes - 10)
    parts = [f"# {topic[:60].title()}", ""]
    for number in range(1, scenes + 1):
        filler = " ".join(_FILLER[i % len(_FILLER)] for i in range(narration))
        parts += [f"## Part {number}", "", f"{filler.capitalize()}.", "", *dialogue, ""]
    return "\n".join(parts)


def storyteller(request: Recorded) -> Reply:
    prompt = request.prompt
    if WRITE_MARK in prompt:
        return answer({"script": written_script(prompt)})
    return answer(enrich(parsed_script(prompt), part_number(prompt)))
