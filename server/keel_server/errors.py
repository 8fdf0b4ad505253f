"""The one error type of keel-server: what went wrong, as an HTTP status and one line a person can act on."""

from __future__ import annotations


class ServerError(Exception):
    """A refused request or command: `status` is the HTTP status the API answers with, `problems` the details
    (an answer's validation problems, one per line)."""

    def __init__(self, status: int, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = list(problems or [])

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"error": self.message}
        if self.problems:
            out["problems"] = self.problems
        return out


def bad_request(message: str) -> ServerError:
    return ServerError(400, message)


def not_found(message: str) -> ServerError:
    return ServerError(404, message)


def conflict(message: str) -> ServerError:
    return ServerError(409, message)
