"""Slow clients (slowloris): a request head or body trickled in is cut off; honest clients are unaffected.

A real server process with short limits (ASYNCCLIENT_HEADER_TIMEOUT / ASYNCCLIENT_BODY_IDLE_TIMEOUT = 2 s);
the attacker is a raw socket that sends a little, then keeps waiting.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "auth"))
from auth_servers import free_port, wait_for_health  # noqa: E402

LIMIT = 2.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("slow-clients")
    port = free_port()
    env = {**os.environ, "ASYNCCLIENT_HEADER_TIMEOUT": str(LIMIT), "ASYNCCLIENT_BODY_IDLE_TIMEOUT": str(LIMIT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "asyncclient.server", "--backend-store-uri", f"sqlite:///{tmp}/a.db",
         "--artifacts-destination", str(tmp / "art"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=open(tmp / "server.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, 90, proc)
        yield port, url
    finally:
        proc.terminate()
        proc.wait(30)


def _closed_within(sock: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """(the server closed the connection within `seconds`, what it sent before)."""
    sock.settimeout(0.5)
    deadline, received = time.monotonic() + seconds, b""
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True, received
        if not chunk:
            return True, received
        received += chunk
    return False, received


def test_a_head_trickled_in_is_answered_408_and_closed(server):
    port, url = server
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        t = time.monotonic()
        for _ in range(3):  # a header line now and then keeps a naive server waiting forever
            time.sleep(0.5)
            sock.sendall(b"X-Slow: 1\r\n")
        closed, answer = _closed_within(sock, 20)
        assert closed, "the server kept a trickling head open"
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert time.monotonic() - t < LIMIT + 15
    assert requests.get(url + "/health", timeout=10).text == "OK"


def test_a_stalled_body_loses_its_connection(server):
    port, url = server
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"name\": ")
        closed, _ = _closed_within(sock, 20)
        assert closed, "the server waited forever for a body that stopped coming"
    assert requests.get(url + "/health", timeout=10).text == "OK"


def test_slow_but_steady_and_ordinary_requests_are_served(server):
    port, url = server
    # A body that arrives in pieces, each within the limit, is not a stall.
    body = b'{"name": "steady-experiment"}'
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        for i in range(0, len(body), 10):
            time.sleep(LIMIT / 3)
            sock.sendall(body[i:i + 10])
        closed, answer = _closed_within(sock, 20)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    # A keep-alive connection idle between requests for longer than the limit is not a slow head.
    session = requests.Session()
    for _ in range(3):
        assert session.get(url + "/health", timeout=10).text == "OK"
        time.sleep(LIMIT + 0.5)
