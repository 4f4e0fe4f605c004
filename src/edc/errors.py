"""Errors that edc reports to a person as one sentence, each with the exit code the CLI uses."""

EXIT_OK = 0
EXIT_INTEGRITY = 1
EXIT_USAGE = 2


class EdcError(Exception):
    """Base of every error edc explains itself; the message is safe to print (no passwords)."""

    exit_code = EXIT_USAGE


class InputError(EdcError):
    """Bad input or usage: a file, an argument or a value that cannot be accepted."""


class DatabaseUnavailableError(EdcError):
    """The database cannot be reached or opened; the message carries the masked URL."""


class SchemaNotReadyError(EdcError):
    """The database has no schema, or an older one, and the command needs the current one."""


class IntegrityFailureError(EdcError):
    """An integrity check found a problem; the message names the first bad record."""

    exit_code = EXIT_INTEGRITY


class NotFoundError(InputError):
    """A job, artifact or entry named by the user does not exist."""


class InvalidTransitionError(EdcError):
    """A job status change that the state machine does not allow; names both states."""


class LeaseLostError(EdcError):
    """A worker acted on a job it no longer holds (its lease was taken over, or it never had it)."""


class ConcurrentChangeError(EdcError):
    """The row changed between reading and writing it; the caller should read it again."""
