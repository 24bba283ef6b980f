"""Streamed bodies are capped on every route, not only where Content-Length is sent."""

from __future__ import annotations

import re
import select
import socket

import pytest

CHUNK = 64 * 1024


def _stream(chunks: int = 200):
    for _ in range(chunks):
        yield b" " * CHUNK


def _send_chunked(url: str, path: str, content_type: str, total_chunks: int = 400
                  ) -> tuple[int, bytes]:
    """POST a chunked body over a real socket until the server answers; return what we
    sent (bytes) and the response head."""
    host, port = url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
                     f"Content-Type: {content_type}\r\nAccept: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        chunk = f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
        for _ in range(total_chunks):
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered: stop offering more
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += CHUNK
        select.select([sock], [], [], 5)
        return sent, _response(sock)


def _response(sock: socket.socket) -> bytes:
    """The whole response: its head and its Content-Length of body. One recv() may hold
    the head alone (the server writes them apart; under load they arrive apart)."""
    data = b""
    while True:
        try:
            part = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return data
        if not part:
            return data
        data += part
        head, found, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        if found and length and len(body) >= int(length.group(1)):
            return data


@pytest.mark.browser
@pytest.mark.parametrize(("path", "content_type"), [
    ("/api/v1/auth/token", "application/json"),  # anonymous API
    ("/login", "application/x-www-form-urlencoded"),  # a page form
])
def test_an_anonymous_chunked_body_is_cut_off_at_the_limit(live_server, path, content_type):
    sent, head = _send_chunked(live_server.url, path, content_type)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert b'"too_large"' in head
    # 25 MiB offered, 1 MiB allowed: the server answered and stopped reading long before
    # the end (loopback socket buffers hold a few MiB more, so the bound is loose).
    assert sent < 12 * 1_048_576


def test_a_logged_in_chunked_json_body_is_refused_translated(client, make_persona):
    resident = make_persona("public")
    resp = client.post("/api/v1/passes", content=_stream(),
                       headers={**resident.headers, "Content-Type": "application/json",
                                "Accept-Language": "zh-CN"})
    assert resp.status_code == 413
    assert resp.json()["error"]["message"] == "上传的内容过大。"


def test_a_chunked_body_under_the_limit_is_still_read(client, make_persona):
    resident = make_persona("public")
    resp = client.post("/api/v1/passes", content=iter([b'{"purpose": ', b'"work"}']),
                       headers={**resident.headers, "Content-Type": "application/json"})
    assert resp.status_code == 422  # read and validated, not refused for size
