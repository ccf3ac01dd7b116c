"""The order path's operator commands (`colo book`, `colo risk`, `colo kill`,
`colo eod`) against a telemetry socket stand-in: an appliance that answers
otherwise than this version expects gets a message, never a traceback."""
import json
import os
import shutil
import socket
import threading

import pytest

from dataplane import cli
from dataplane.eal import runtime_dir
from dataplane_helpers import ORDER_PATH_CONFIG

PREFIX = f"colo-review-commands-{os.getpid()}"


class Telemetry:
    """DPDK's telemetry socket as a stand-in: greets each client, then answers
    its one command with answers[command name] (a dict); with answers None,
    never (an appliance too busy to answer)."""

    def __init__(self, answers: dict | None):
        self.answers = answers
        self.unanswered = []
        os.makedirs(runtime_dir(PREFIX), exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.bind(f"{runtime_dir(PREFIX)}/dpdk_telemetry.v2")
        self.sock.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:  # closed
                return
            client.send(json.dumps({"version": "DPDK 22.11.0", "pid": os.getpid(),
                                    "max_output_len": 16384}).encode())
            if self.answers is None:
                self.unanswered.append(client)
                continue
            with client:
                name = client.recv(1024).decode().split(",")[0]
                client.send(json.dumps({name: self.answers.get(name)}).encode())

    def close(self):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join()
        for client in self.unanswered:
            client.close()
        shutil.rmtree(runtime_dir(PREFIX), ignore_errors=True)


@pytest.fixture
def telemetry():
    servers = []

    def serve(answers):
        servers.append(Telemetry(answers))
    yield serve
    for server in servers:
        server.close()


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "colo.yaml"
    path.write_text(ORDER_PATH_CONFIG.format(prefix=PREFIX))
    return str(path)


# An appliance of another version: every command is there, the fields are not.
OTHER_VERSION = {"/colo/orders": {"rx_packets": 0}, "/colo/book": {"levels": []},
                 "/colo/risk": {"open_orders": 0}, "/colo/kill": {"ok": 1},
                 "/colo/eod": {"ok": 1}}


@pytest.mark.parametrize("command", [["book", "COLOA"], ["risk", "show", "alpha"],
                                     ["kill", "all"], ["kill", "all", "--off"], ["eod"],
                                     ["risk", "set"]])
def test_an_answer_without_the_expected_fields_is_explained(telemetry, config, command, capsys):
    telemetry(OTHER_VERSION)
    words = command[:2] if command[0] == "risk" else command[:1]
    argv = words + [config] + command[len(words):]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "another version" in err and "Traceback" not in err


def test_an_appliance_that_does_not_answer_is_named(telemetry, config, capsys):
    telemetry(None)
    assert cli.main(["eod", config]) == 1
    assert (f"the appliance with eal.file_prefix {PREFIX} did not answer /colo/eod"
            in capsys.readouterr().err)
