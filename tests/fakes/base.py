"""Shared machinery for the loopback fake API servers (X, Mastodon, Bluesky).

Every fake is a real HTTP/1.1 server (``http.server.ThreadingHTTPServer``) bound to
``127.0.0.1`` on an ephemeral port, served from a daemon thread, so the *real* client
libraries (tweepy, Mastodon.py, atproto) talk to it over real sockets.

Lifecycle::

    fake = FakeMastodon().start()      # or: with FakeMastodon() as fake: ...
    fake.url                           # "http://127.0.0.1:54321"
    fake.stop()                        # runs cleanups (closes clients built by clients.py),
                                       # shutdown + server_close; idempotent, bounded

State a test can inspect (all thread-safe snapshots):

* ``fake.posts``          -- list of dicts, oldest first, one per stored post (all accounts,
                             deleted ones flagged ``deleted``); ``fake.posts_for(account)``
                             for one account's live posts.
* ``fake.requests``       -- the request log: ``RecordedRequest`` (method, path, query,
                             headers, body, ``json()``, endpoint, status, fault, outcome
                             "ok"/"error"/"fault"/"dropped"/"reset", response_headers).
  ``fake.requests_to(endpoint)`` filters by endpoint name; ``fake.clear_requests()``.
* ``fake.account``        -- the default account (credentials to configure clients with);
                             ``fake.add_account(...)`` adds more, ``fake.accounts()``.
* ``fake.seed_post(text, created_at=..., account=...)`` -- store history without HTTP.
* ``fake.set_rate_limit(endpoint, limit, window)`` -- per-account budget; when exhausted the
                             fake answers 429 with its platform's headers.
* ``fake.server_errors`` / ``fake.server_error_details`` -- exceptions inside the fake (a
                             fake bug answers 500 and is counted here; should stay 0).
* ``fake.reset_state()``  -- forget posts, media, faults, log and rate-limit windows.
* ``fake.add_cleanup(fn)`` -- run ``fn`` at ``stop()``.

Fault injection
---------------
``fake.inject(endpoint, fault, times=1)`` queues ``fault`` for the next ``times`` requests
whose endpoint name is ``endpoint`` (``"*"`` matches any endpoint).  Faults are consumed
first-in first-out; a request consumes at most one fault.  The endpoint names of each fake
are listed in its module docstring (``"post"``, ``"media"``, ``"timeline"``, ``"me"``, ...).

Fault kinds (constructors on ``Fault``):

``Fault.status(code, reset_in=None, headers=None, body=None)``   (``fault.code`` is the status)
    Answer ``code`` with the platform's own error body, *without* processing the request
    (nothing is stored).  ``reset_in`` (seconds) adds the platform's rate-limit reset header
    (X: ``x-rate-limit-reset`` Unix seconds; Mastodon: ``X-RateLimit-Reset`` ISO 8601;
    Bluesky: ``ratelimit-reset`` Unix seconds); without it no reset header is sent.
``Fault.rate_limit(reset_in=None)``   -- ``status(429, ...)``.
``Fault.server_error(code=500)``      -- ``status(code)`` for 500/502/503/504.
``Fault.unauthorized()``              -- ``status(401)``.
``Fault.duplicate()``                 -- X: the real 403 "duplicate content" problem+json;
                                         other fakes: a plain 403.
``Fault.slow(delay, then=None)``      -- sleep ``delay`` seconds (capped at ``MAX_DELAY``,
                                         interrupted by ``stop()``), then handle the request
                                         normally (so it *is* stored) or apply ``then``.
                                         Use a delay longer than the client's timeout to get
                                         a lost response whose post exists.
``Fault.drop(store=True)``            -- handle the request (store the post when
                                         ``store``), then close the connection cleanly (FIN)
                                         without any response bytes.
``Fault.reset(store=True)``           -- like ``drop`` but abort the connection with a TCP
                                         RST (``SO_LINGER`` 0).

Nothing here ever binds anything but 127.0.0.1, and every wait is bounded.
"""

from __future__ import annotations

import copy
import email.parser
import email.policy
import json
import socket
import struct
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "Fault",
    "FakeServer",
    "Request",
    "Response",
    "RecordedRequest",
    "MAX_DELAY",
    "json_response",
    "parse_multipart",
]

#: Upper bound for any server-side sleep (``Fault.slow``), in seconds.
MAX_DELAY = 30.0
#: How long an idle keep-alive connection may sit in a handler thread.
IDLE_TIMEOUT = 15.0


# --------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """A failure to inject into the next matching request(s). Build with the classmethods."""

    kind: str  # "status" | "slow" | "drop" | "reset" | "garble"
    code: int | None = None  # HTTP status for kind "status"
    reset_in: float | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: Any = None
    reason: str | None = None  # e.g. "duplicate"
    delay: float = 0.0
    then: "Fault | None" = None
    store: bool = True

    # -- constructors ------------------------------------------------------------------
    @classmethod
    def status(cls, code: int, *, reset_in: float | None = None,
               headers: dict[str, str] | None = None, body: Any = None,
               reason: str | None = None) -> "Fault":
        """Answer ``code`` (platform error body unless ``body``) without processing."""
        return cls(kind="status", code=int(code), reset_in=reset_in,
                   headers=tuple((headers or {}).items()), body=body, reason=reason)

    @classmethod
    def rate_limit(cls, reset_in: float | None = None, **kw: Any) -> "Fault":
        return cls.status(429, reset_in=reset_in, **kw)

    @classmethod
    def server_error(cls, code: int = 500, **kw: Any) -> "Fault":
        return cls.status(code, **kw)

    @classmethod
    def unauthorized(cls, **kw: Any) -> "Fault":
        return cls.status(401, **kw)

    @classmethod
    def duplicate(cls) -> "Fault":
        return cls.status(403, reason="duplicate")

    @classmethod
    def slow(cls, delay: float, then: "Fault | None" = None) -> "Fault":
        return cls(kind="slow", delay=min(float(delay), MAX_DELAY), then=then)

    @classmethod
    def drop(cls, store: bool = True) -> "Fault":
        return cls(kind="drop", store=store)

    @classmethod
    def reset(cls, store: bool = True) -> "Fault":
        return cls(kind="reset", store=store)

    @classmethod
    def garble(cls, code: int = 200, body: str = "<html><body>Bad gateway</body></html>",
               store: bool = True) -> "Fault":
        """Handle the request (store the post when ``store``), then answer ``code`` with a body
        that is not JSON (a proxy's HTML page, a cut-off answer)."""
        return cls(kind="garble", code=int(code), body=body, store=store)

    def __repr__(self) -> str:  # compact, for assertion messages
        if self.kind == "status":
            extra = f", reset_in={self.reset_in}" if self.reset_in is not None else ""
            extra += f", reason={self.reason!r}" if self.reason else ""
            return f"Fault.status({self.code}{extra})"
        if self.kind == "slow":
            return f"Fault.slow({self.delay}, then={self.then!r})"
        return f"Fault.{self.kind}(store={self.store})"


# --------------------------------------------------------------------------------------
# Requests and responses
# --------------------------------------------------------------------------------------


@dataclass
class Request:
    """A parsed incoming request, handed to a fake's endpoint handler."""

    method: str
    path: str  # without query, trailing "/" stripped (except "/")
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # path parameters from routing

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        vals = self.query.get(name)
        return vals[0] if vals else default

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def form(self) -> dict[str, list[str]]:
        """Fields of an urlencoded or multipart body (file parts are left out)."""
        if self.content_type == "application/x-www-form-urlencoded":
            return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        if self.content_type == "multipart/form-data":
            out: dict[str, list[str]] = {}
            for name, part in parse_multipart(self.header("content-type") or "", self.body):
                if part["filename"] is None:
                    out.setdefault(name, []).append(part["data"].decode("utf-8"))
            return out
        return {}

    def files(self) -> dict[str, dict[str, Any]]:
        """File parts of a multipart body: name -> {filename, content_type, data}."""
        if self.content_type != "multipart/form-data":
            return {}
        return {name: part for name, part in parse_multipart(self.header("content-type") or "", self.body)
                if part["filename"] is not None}


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list -> JSON, bytes/str -> as is, None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(status: int, body: Any, headers: dict[str, str] | None = None,
                  content_type: str = "application/json; charset=utf-8") -> Response:
    return Response(status=status, body=body, headers=dict(headers or {}), content_type=content_type)


@dataclass
class RecordedRequest:
    """One entry of ``fake.requests``."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    endpoint: str | None
    time: float
    status: int | None = None  # None when the connection was dropped/reset
    fault: Fault | None = None
    outcome: str = "pending"  # "ok" | "error" | "fault" | "dropped" | "reset"
    response_headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


def iso_time(dt) -> str:
    """A time as the platforms write it: UTC, milliseconds, 'Z'."""
    from datetime import timezone

    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_multipart(content_type: str, body: bytes) -> list[tuple[str, dict[str, Any]]]:
    """Parse a multipart/form-data body into [(name, {filename, content_type, data})]."""
    raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    parts: list[tuple[str, dict[str, Any]]] = []
    if not msg.is_multipart():
        return parts
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        parts.append((name, {"filename": filename, "content_type": part.get_content_type(), "data": data}))
    return parts


# --------------------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------------------


@dataclass
class Route:
    method: str
    pattern: tuple[str, ...]  # path segments; "{name}" captures one segment
    endpoint: str
    handler: Callable[[Request], Response]


def _split(path: str) -> tuple[str, ...]:
    return tuple(seg for seg in path.split("/") if seg)


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 64

    def __init__(self, fake: "FakeServer") -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:  # keep test output quiet
        self.fake._note_server_error(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PraatMeeFake/1.0"
    sys_version = ""
    timeout = IDLE_TIMEOUT

    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        return

    def setup(self) -> None:
        super().setup()
        try:  # avoid Nagle + delayed-ACK stalls (~40 ms per request)
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.fake._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._untrack(self.connection)

    def _read_body(self) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        body = self._read_body()
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        req = Request(
            method=self.command,
            path=path,
            query=parse_qs(split.query, keep_blank_values=True),
            raw_query=split.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        self.server.fake._serve(self, req)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    # -- low-level answers used by FakeServer._serve --------------------------------
    def send(self, resp: Response) -> None:
        payload = resp.encoded()
        self.send_response(resp.status)
        sent_ct = False
        for k, v in resp.headers.items():
            if k.lower() == "content-type":
                sent_ct = True
            self.send_header(k, v)
        if payload and not sent_ct and resp.content_type:
            self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(payload)))
        # headers and body in one write
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD" and payload:
            self._headers_buffer.append(payload)
        self.flush_headers()

    def drop(self) -> None:
        """Close cleanly (FIN) without writing a response."""
        self.close_connection = True

    def reset(self) -> None:
        """Abort the connection with an RST."""
        self.close_connection = True
        try:
            fd = self.connection.detach()
        except OSError:
            return
        sock = socket.socket(fileno=fd)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        sock.close()


class FakeServer:
    """Base class of the fakes: routing, faults, request log, lifecycle.

    Subclasses register routes with ``self.route(method, "/path/{param}", endpoint, fn)``
    and implement ``error_response(req, status, fault=None, **kw)`` returning the platform's
    error shape, plus ``rate_limit_headers(endpoint, account)``.
    """

    #: endpoint -> (limit, window seconds); enforced per account when remaining hits 0.
    default_rate_limits: dict[str, tuple[int, int]] = {}
    #: the account attribute a stored post's "account" holds (a username, a handle)
    account_name = "username"
    #: the platform's own stores that reset_state() empties besides the posts
    extra_state: tuple[str, ...] = ()
    #: whether posting an identical text again is refused (X) or accepted (the others)
    refuses_duplicates = False

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._routes: list[Route] = []
        self._faults: list[list[Any]] = []  # [endpoint, fault, remaining, requests to let through first]
        self._log: list[RecordedRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._server_errors = 0
        self._server_error_details: list[str] = []
        self._cleanups: list[Callable[[], Any]] = []
        self._windows: dict[tuple[str, str], list[float]] = {}  # (account, endpoint) -> [reset, used]
        self.rate_limits: dict[str, tuple[int, int]] = dict(self.default_rate_limits)
        self._accounts: dict[str, Any] = {}  # credential (token, did) -> account
        self._posts: list[dict[str, Any]] = []  # oldest first

    # -- state every fake keeps ----------------------------------------------------------
    def accounts(self) -> list[Any]:
        with self._lock:
            return list(self._accounts.values())

    @property
    def posts(self) -> list[dict[str, Any]]:
        """All stored posts (all accounts, including deleted), oldest first; a deep copy."""
        with self._lock:
            return copy.deepcopy(self._posts)

    def posts_for(self, account: Any) -> list[dict[str, Any]]:
        """One account's live posts, oldest first; account: the account or its name."""
        name = account if isinstance(account, str) else getattr(account, self.account_name)
        return [p for p in self.posts if p["account"] == name and not p["deleted"]]

    def reset_state(self) -> None:
        """Forget posts, the platform's stores, faults, request log and rate-limit windows (keep accounts)."""
        with self._lock:
            self._posts.clear()
            for name in self.extra_state:
                getattr(self, name).clear()
            self._faults.clear()
            self._log.clear()
            self._windows.clear()

    @staticmethod
    def alt_texts(post: dict[str, Any]) -> list[str | None]:
        """The alt texts of a stored post's media, in order."""
        raise NotImplementedError

    # -- lifecycle ---------------------------------------------------------------------
    def start(self):
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self)
        host, port = self._server.server_address[:2]
        assert host == "127.0.0.1"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{port}", daemon=True,
        )
        self._thread.start()
        return self

    def add_cleanup(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` (e.g. a client's ``close``) when the fake stops."""
        with self._lock:
            self._cleanups.append(fn)

    def stop(self) -> None:
        with self._lock:
            cleanups, self._cleanups = self._cleanups, []
        for fn in reversed(cleanups):
            try:
                fn()
            except Exception:
                pass
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("fake server not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- routing -----------------------------------------------------------------------
    def route(self, method: str, path: str, endpoint: str, handler: Callable[[Request], Response]) -> None:
        self._routes.append(Route(method.upper(), _split(path), endpoint, handler))

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        segs = _split(path)
        path_matched = False
        for r in self._routes:
            if len(r.pattern) != len(segs):
                continue
            params: dict[str, str] = {}
            ok = True
            for p, s in zip(r.pattern, segs):
                if p.startswith("{") and p.endswith("}"):
                    params[p[1:-1]] = s
                elif p != s:
                    ok = False
                    break
            if not ok:
                continue
            path_matched = True
            if r.method == method or (method == "HEAD" and r.method == "GET"):
                return r, params, True
        return None, {}, path_matched

    # -- faults ------------------------------------------------------------------------
    def inject(self, endpoint: str, fault: Fault, times: int = 1, *, after: int = 0) -> None:
        """Apply ``fault`` to the next ``times`` requests to ``endpoint`` ("*" = any), once
        ``after`` more requests to it have gone through (so ``after=2`` hits the third)."""
        if times < 1 or after < 0:
            raise ValueError("times must be >= 1 and after >= 0")
        known = self.endpoints()
        if endpoint != "*" and endpoint not in known:
            raise ValueError(f"unknown endpoint {endpoint!r}; known: {sorted(known)}")
        with self._lock:
            self._faults.append([endpoint, fault, times, after])

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> list[tuple[str, Fault, int]]:
        with self._lock:
            return [(e, f, n) for e, f, n, _ in self._faults]

    def endpoints(self) -> set[str]:
        return {r.endpoint for r in self._routes}

    def _take_fault(self, endpoint: str) -> Fault | None:
        with self._lock:
            taken = None
            for entry in list(self._faults):
                if entry[0] != "*" and entry[0] != endpoint:
                    continue
                if entry[3] > 0:  # still letting requests through
                    entry[3] -= 1
                elif taken is None:
                    taken = entry
            if taken is None:
                return None
            taken[2] -= 1
            if taken[2] <= 0:
                self._faults.remove(taken)
            return taken[1]

    # -- request log -------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._log)

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._log if r.endpoint == endpoint]

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    def _note_server_error(self, detail: str = "") -> None:
        with self._lock:
            self._server_errors += 1
            self._server_error_details.append(detail)

    @property
    def server_errors(self) -> int:
        """Unhandled exceptions inside handler threads (should stay 0)."""
        with self._lock:
            return self._server_errors

    @property
    def server_error_details(self) -> list[str]:
        """Tracebacks of those exceptions."""
        with self._lock:
            return list(self._server_error_details)

    # -- connection tracking (so stop() can break idle keep-alive connections) ---------
    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.add(conn)

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.discard(conn)

    # -- rate-limit bookkeeping --------------------------------------------------------
    def set_rate_limit(self, endpoint: str, limit: int, window: int = 900) -> None:
        """Set (and reset) the per-account budget of ``endpoint``."""
        with self._lock:
            self.rate_limits[endpoint] = (int(limit), int(window))
            for key in [k for k in self._windows if k[1] == endpoint]:
                del self._windows[key]

    def _consume_budget(self, account: str, endpoint: str) -> tuple[int, int, int] | None:
        """Count one call; return (limit, remaining, reset_epoch) or None if unlimited.

        ``remaining`` is negative when the budget was already exhausted (caller answers 429).
        """
        spec = self.rate_limits.get(endpoint)
        if spec is None:
            return None
        limit, window = spec
        now = time.time()
        with self._lock:
            win = self._windows.get((account, endpoint))
            if win is None or win[0] <= now:
                win = [now + window, 0]
                self._windows[(account, endpoint)] = win
            win[1] += 1
            return limit, limit - int(win[1]), int(win[0])

    def budget(self, account: str, endpoint: str) -> tuple[int, int, int] | None:
        """Peek at (limit, remaining, reset_epoch) without consuming."""
        spec = self.rate_limits.get(endpoint)
        if spec is None:
            return None
        limit, window = spec
        now = time.time()
        with self._lock:
            win = self._windows.get((account, endpoint))
            if win is None or win[0] <= now:
                return limit, limit, int(now + window)
            return limit, max(limit - int(win[1]), 0), int(win[0])

    # -- hooks for subclasses ----------------------------------------------------------
    def error_response(self, req: Request, status: int, fault: Fault | None = None,
                       message: str | None = None) -> Response:
        return json_response(status, {"error": message or f"HTTP {status}"})

    def reset_header(self, reset_epoch: float) -> dict[str, str]:
        return {}

    def unknown_route(self, req: Request, path_matched: bool) -> Response:
        return self.error_response(req, 405 if path_matched else 404)

    def _fault_response(self, req: Request, fault: Fault) -> Response:
        if fault.body is not None:
            resp = json_response(fault.code or 500, fault.body)
        else:
            resp = self.error_response(req, fault.code or 500, fault)
        if fault.reset_in is not None:
            resp.headers.update(self.reset_header(time.time() + fault.reset_in))
        resp.headers.update(dict(fault.headers))
        return resp

    # -- the request pipeline ----------------------------------------------------------
    def _serve(self, h: _Handler, req: Request) -> None:
        route, params, path_matched = self._match(req.method, req.path)
        rec = RecordedRequest(
            method=req.method, path=req.path, query=req.query, headers=req.headers,
            body=req.body, endpoint=route.endpoint if route else None, time=time.time(),
        )
        with self._lock:
            self._log.append(rec)

        if route is None:
            resp = self.unknown_route(req, path_matched)
            rec.status, rec.outcome, rec.response_headers = resp.status, "error", dict(resp.headers)
            self._send(h, resp)
            return
        req.params = params

        fault = self._take_fault(route.endpoint)
        rec.fault = fault
        if fault is not None and fault.kind == "slow":
            interrupted = self._stopping.wait(min(fault.delay, MAX_DELAY))
            if interrupted:
                rec.outcome = "dropped"
                h.drop()
                return
            fault = fault.then

        if fault is not None and fault.kind == "status":
            resp = self._fault_response(req, fault)
            rec.status, rec.outcome, rec.response_headers = resp.status, "fault", dict(resp.headers)
            self._send(h, resp)
            return

        if fault is not None and fault.kind == "garble":
            if fault.store:
                self._call(route, req)
            resp = Response(status=fault.code, body=str(fault.body).encode(), headers={},
                            content_type="application/json; charset=utf-8")
            rec.status, rec.outcome, rec.response_headers = resp.status, "fault", {}
            self._send(h, resp)
            return

        if fault is not None and fault.kind in ("drop", "reset"):
            if fault.store:
                self._call(route, req)  # the server did the work; the answer gets lost
            rec.outcome = "dropped" if fault.kind == "drop" else "reset"
            if fault.kind == "drop":
                h.drop()
            else:
                h.reset()
            return

        resp = self._call(route, req)
        rec.status = resp.status
        rec.outcome = "ok" if resp.status < 400 else "error"
        rec.response_headers = dict(resp.headers)
        self._send(h, resp)

    def _call(self, route: Route, req: Request) -> Response:
        try:
            return route.handler(req)
        except Exception as exc:  # a bug in the fake: answer 500 and count it
            self._note_server_error(traceback.format_exc())
            return self.error_response(req, 500, message=f"fake server bug: {exc!r}")

    def _send(self, h: _Handler, resp: Response) -> None:
        try:
            h.send(resp)
        except OSError:
            h.close_connection = True
