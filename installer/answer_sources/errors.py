"""The one error of the answer sources."""


class AnswerSourceError(RuntimeError):
    """No answer could be fetched; the message names the source and what went wrong, one line per attempt."""
