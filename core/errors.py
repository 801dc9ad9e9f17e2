"""The domain errors every service raises. Pages show them as messages; the API maps
them to status codes in one exception handler (403, 409, 400)."""


class DomainError(Exception):
    """A rule of the service refused the action; nothing was changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ActionNotPermitted(DomainError):
    """The acting user's role or team does not allow this action (403)."""


class TransitionNotAllowed(DomainError):
    """The object is not in a state that allows this move (409)."""

    def __init__(self, message: str, *, current: str, allowed: list[str]):
        super().__init__(message)
        self.current = current
        self.allowed = allowed


class Conflict(DomainError):
    """Someone else changed the object first, or a uniqueness rule refused it (409)."""


class InvalidInput(DomainError):
    """The data breaks a rule the form or serializer could not check alone (400)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field
