"""Domain errors raised by services; app/errors.py maps them to HTTP statuses."""


class DomainError(Exception):
    status = 400

    def __init__(self, message: str = "", **fields: str):
        super().__init__(message)
        self.message = message
        self.fields = fields  # field name -> message, for forms and JSON


class NotFound(DomainError):
    """Unknown or foreign object: a stranger never learns it exists."""

    status = 404


class NotAllowed(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class InvalidTransition(Conflict):
    pass


class ValidationFailed(DomainError):
    status = 422
