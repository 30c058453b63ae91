"""TCP server that exposes emulators as ``socket://127.0.0.1:PORT`` serial ports.

A real byte stream with partial reads and real timeouts. Each accepted connection gets the
emulator the factory returns (fresh or shared). Run as a context manager; threads are
daemons and stop with the server.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable
from types import TracebackType

from simulators.emulators.base import Emulator

POLL_S = 0.002


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        emulator = self.server.factory()
        self.server.emulators.append(emulator)
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle: tiny replies
        sock.settimeout(POLL_S)
        while not self.server.stopping.is_set():
            try:
                data = sock.recv(4096)
                if not data:
                    return
                emulator.write(data)
            except TimeoutError:
                pass
            except OSError:
                return
            out = emulator.read_available()
            if out:
                try:
                    sock.sendall(out)
                except OSError:
                    return


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, factory: Callable[[], Emulator]) -> None:
        self.factory = factory
        self.emulators: list[Emulator] = []
        self.stopping = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)


class EmulatorServer:
    """``with EmulatorServer(factory) as srv: serial_for_url(srv.url)``."""

    def __init__(self, factory: Callable[[], Emulator]) -> None:
        self._server = _Server(factory)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"socket://127.0.0.1:{port}"

    @property
    def emulators(self) -> list[Emulator]:
        return self._server.emulators

    def start(self) -> EmulatorServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve(emulators: dict[str, Callable[[], Emulator]]) -> dict[str, EmulatorServer]:
    """Start one server per named factory (for a whole emulated rig)."""
    return {name: EmulatorServer(factory).start() for name, factory in emulators.items()}


def main(argv: list[str] | None = None) -> int:
    """``python -m simulators.emulators.server smc100 sc10 ...``: serve emulators on TCP
    until Ctrl-C, printing the socket:// URL of each for a rig file."""
    import argparse

    from simulators.emulators import EMULATORS, create

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("kinds", nargs="+", choices=sorted(EMULATORS))
    args = parser.parse_args(argv)
    servers = [
        (kind, EmulatorServer(lambda k=kind: create(k)).start())  # type: ignore[misc]
        for kind in args.kinds
    ]
    for kind, srv in servers:
        print(f"{kind:8s} {srv.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for _, srv in servers:
            srv.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
