"""`huanjie serve --workers N`: the shared listening socket is marked as TCP, so asyncio turns
Nagle's algorithm off on every connection (otherwise each response waits for the client's
delayed ACK: 40 ms a request, measured with bench/api.py). Flags, not timings."""

from __future__ import annotations

import asyncio
import socket

import uvicorn

from service.cli.serve_socket import TcpConfig


def nodelay_of_an_accepted_connection(config: uvicorn.Config) -> int:
    listening = config.bind_socket()
    listening.listen()
    port = listening.getsockname()[1]

    async def accept_one() -> int:
        accepted: asyncio.Future = asyncio.get_running_loop().create_future()

        class Capture(asyncio.Protocol):
            def connection_made(self, transport):
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Capture, sock=listening)
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, 5)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()

    return asyncio.run(accept_one())


def test_connections_of_the_shared_socket_have_nagle_off():
    config = TcpConfig("service.app:create_app_from_env", factory=True, host="127.0.0.1", port=0, workers=2)
    assert config.bind_socket().proto == socket.IPPROTO_TCP
    assert nodelay_of_an_accepted_connection(config) == 1


def test_uvicorns_own_shared_socket_would_leave_nagle_on():
    """Why the subclass exists: with uvicorn's socket asyncio does not set TCP_NODELAY."""
    config = uvicorn.Config("service.app:create_app_from_env", factory=True, host="127.0.0.1", port=0, workers=2)
    assert nodelay_of_an_accepted_connection(config) == 0
