"""Extensions to moto, applied once before the server starts."""


def apply() -> None:
    """Install every extension of the local cloud into moto (idempotent)."""
