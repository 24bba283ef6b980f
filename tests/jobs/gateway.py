"""A real local HTTP gateway (webhook or SMS) for the outbox tests.

It records what it accepted, can be down (nothing listening on its port yet), answer
errors for its first calls, or be slow (sleeping while the runner waits on it).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Gateway:
    """Behaviour and record of one local gateway."""

    port: int
    fail_first: int = 0
    fail_status: int = 503
    sleep_s: float = 0.0
    calls: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[Any] = field(default_factory=list)  # case-insensitive .get()
    bodies: list[bytes] = field(default_factory=list)
    waiting: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notify"

    def idempotency_keys(self) -> list[str]:
        return [h.get("Idempotency-Key") for h in self.headers]

    def start(self) -> None:
        """Come up on the port (it was down until now)."""
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with gateway.lock:
                    gateway.calls += 1
                    failing = gateway.calls <= gateway.fail_first
                if gateway.sleep_s:
                    gateway.waiting.set()
                    time.sleep(gateway.sleep_s)
                if failing:
                    self.send_response(gateway.fail_status)
                    self.end_headers()
                    return
                with gateway.lock:
                    gateway.received.append(json.loads(body))
                    gateway.bodies.append(body)
                    gateway.headers.append(self.headers)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def free_port() -> int:
    """A port nothing listens on (yet): the gateway is down until start()."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SECRET = "gateway-test-secret-0123456789abcdef"


def with_gateways(settings: Any, *, webhook: Gateway | None = None, sms: Gateway | None = None,
                  **extra: Any) -> Any:
    """Settings pointing at these gateways, signing with SECRET, retrying at once."""
    return settings.model_copy(update={
        "notify_webhook_url": webhook.url if webhook else None,
        "sms_gateway_url": sms.url if sms else None,
        "gateway_signing_secret": SECRET, "outbox_backoff_s": 0.0, "gateway_timeout_s": 5.0,
        **extra})
