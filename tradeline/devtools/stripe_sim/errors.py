"""Errors in Stripe's format: {"error": {"type", "code", "message", "param"}}."""


class SimError(Exception):
    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, decline_code: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code

    def body(self) -> dict:
        error = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        if self.decline_code:
            error["decline_code"] = self.decline_code
        return {"error": error}


def missing(kind: str, object_id: str, param: str = "id") -> SimError:
    return SimError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)
