"""uvicorn's configuration for several worker processes, with a listening socket marked as TCP.

A module of its own (not a class inside `serve`): the worker processes are spawned, and each
unpickles its configuration by this module's name. Imported only by `huanjie serve --workers N`.
"""

from __future__ import annotations

import socket

import uvicorn


class TcpConfig(uvicorn.Config):
    """asyncio sets TCP_NODELAY only on connections whose socket says IPPROTO_TCP, and uvicorn's
    own listening socket says 0: every response (headers and body are two writes) would then wait
    for the client's delayed ACK under Nagle's algorithm, 40 ms a request (bench/api.py)."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.set_inheritable(True)
        return tcp
