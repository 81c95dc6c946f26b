"""A TCP relay, run in a container on the twin network (standard library only).

    python3 relay.py --listen 0.0.0.0:443 --to 172.18.0.1:443

Each connection to ``--listen`` is passed on, bytes unchanged, to ``--to``: the twin gives
a name of its network (a Docker network alias of this container, which the instances and
their containers resolve through the VPC resolver) to a service the local cloud serves on
the network's gateway address (localcloud/twin/stripe_host.py). TLS passes through: the
client's SNI reaches the server, which answers with a certificate for that name.
"""
from __future__ import annotations

import argparse
import socket
import threading


def _address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host, int(port)


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _serve(client: socket.socket, upstream: tuple[str, int]) -> None:
    try:
        server = socket.create_connection(upstream, timeout=10)
    except OSError:
        client.close()
        return
    server.settimeout(None)
    back = threading.Thread(target=_pipe, args=(server, client), daemon=True)
    back.start()
    _pipe(client, server)
    back.join()
    client.close()
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=_address, required=True)
    parser.add_argument("--to", type=_address, required=True)
    args = parser.parse_args()
    listener = socket.create_server(args.listen, reuse_port=False)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_serve, args=(client, args.to), daemon=True).start()


if __name__ == "__main__":
    main()
