import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listening_socket() -> tuple[socket.socket, int]:
    """A listening socket on a port whose neighbours (the demo's other ports, whichever way the
    tests shift them) are free, so that only the port under test is reported busy."""
    for _ in range(50):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        if all(_free(port + d) for d in (-1, 1, 2)):
            sock.listen(1)
            return sock, port
        sock.close()
    raise AssertionError("no port with free neighbours found")


def test_run_demo_refuses_a_port_in_use_and_starts_nothing():
    sock, port = _listening_socket()
    try:
        with pytest.raises(CommandError, match=rf"web port {port} already in use .*PORT={port + 10} make run"):
            call_command("run_demo", port=port)
    finally:
        sock.close()


def test_run_demo_checks_the_simulator_ports_too():
    sock, port = _listening_socket()
    try:
        with pytest.raises(CommandError, match=rf"stripe port {port} already in use"):
            call_command("run_demo", port=port - 1)
    finally:
        sock.close()


@pytest.mark.parametrize("port", [80, 65535])
def test_run_demo_needs_a_port_with_room_for_the_simulators(port):
    with pytest.raises(CommandError, match="between 1024 and 65533"):
        call_command("run_demo", port=port)
