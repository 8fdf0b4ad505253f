"""A small QMP client (QEMU's JSON control protocol on a unix socket) for power control and queries."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from pathlib import Path
from typing import Any

from .spec import HarnessError


class Qmp:
    """One QMP connection; `execute` sends a command and returns its result, skipping async events."""

    def __init__(self, path: Path, connect_timeout: float = 30.0, command_timeout: float = 30.0):
        self.path = path
        self.events: list[dict[str, Any]] = []
        deadline = time.monotonic() + connect_timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError) as err:
                sock.close()
                if time.monotonic() > deadline:
                    raise HarnessError(
                        f"QMP socket {path}: QEMU did not open it within {connect_timeout:.0f} s"
                    ) from err
                time.sleep(0.1)
        sock.settimeout(command_timeout)
        self._sock = sock
        self._file = sock.makefile("rwb")
        greeting = self._read()
        if "QMP" not in greeting:
            raise HarnessError(f"QMP socket {path}: unexpected greeting {greeting!r}")
        self.execute("qmp_capabilities")

    def _read(self) -> dict[str, Any]:
        line = self._file.readline()
        if not line:
            raise ConnectionError(f"QMP socket {self.path}: QEMU closed the connection")
        return json.loads(line)

    def execute(self, command: str, **arguments: Any) -> Any:
        message: dict[str, Any] = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        self._file.write(json.dumps(message).encode() + b"\n")
        self._file.flush()
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                err = reply["error"]
                raise HarnessError(f"QMP {command}: {err.get('class')}: {err.get('desc')}")
            return reply.get("return")

    def close(self) -> None:
        for closer in (self._file.close, self._sock.close):
            with contextlib.suppress(OSError):
                closer()
