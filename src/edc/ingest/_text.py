"""Helpers shared by the validators."""


def show(value: str, limit: int = 40) -> str:
    """Quote a user value for a message, shortened so one bad cell cannot flood the output."""
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return repr(value)
