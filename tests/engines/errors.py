"""The errors of the test-engine package."""


class EngineError(RuntimeError):
    """Base class of the test-engine errors."""


class EngineUnavailable(EngineError):
    """The requested engine is not installed and cannot be installed here."""


class EngineStartError(EngineError):
    """An engine was installed but did not start (the message has its log tail)."""
