"""What every provider shares: one error type, one error mapping, one OpenAI client.

Providers are vendor adapters and know nothing of Viva's flows: they take small frozen
configs (never `Settings`) and are wired by `server.py`. Each capability (chat in
`flows/providers/chat.py`, speech-to-text in `voice/stt.py`, text-to-speech in
`voice/tts.py`) has one base class whose public methods run the vendor's single hook
inside `map_errors`, so a new vendor cannot forget the mapping or the metric.

Transport failures (429, 5xx, timeouts, connection errors) are retried with exponential
backoff by the official SDK (`max_retries`, honouring Retry-After, with the timeout of
`OpenAIConfig`); what still fails after that is mapped here, once, to `ProviderError`,
counted in `viva_provider_errors_total`, and the caller degrades to the offline
behaviour for that turn.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx2
import openai

from metrics import PROVIDER_ERRORS

log = logging.getLogger(f"viva.{__name__}")


class ProviderError(Exception):
    """A provider could not do its job; the caller falls back or reports it."""

    def __init__(self, capability: str, kind: str, detail: str) -> None:
        super().__init__(f"{capability} provider failed ({kind}): {detail}")
        self.capability = capability
        self.kind = kind
        self.counted = False  # set once the metric has seen it


@dataclass(frozen=True)
class OpenAIConfig:
    """How to reach an OpenAI-compatible server (shared by chat, STT and TTS)."""

    api_key: str
    base_url: str | None = None
    timeout_seconds: float = 30.0
    max_retries: int = 2


def _kind(error: Exception) -> str | None:
    """The failure kind of a backend error; None when it is not a backend error."""
    if isinstance(error, openai.APITimeoutError | httpx2.TimeoutException):
        return "timeout"  # an SDK timeout, or a body that stalled mid-stream
    if isinstance(error, openai.APIConnectionError | httpx2.TransportError):
        return "connection"
    if isinstance(error, openai.APIStatusError):
        return "rate_limited" if error.status_code == 429 else f"http_{error.status_code}"
    if isinstance(error, openai.APIError):  # an error event after a stream began
        return "stream_error"
    if isinstance(error, ValueError | KeyError | TypeError):  # malformed payloads
        return "invalid_output"
    return None


@contextmanager
def map_errors(capability: str) -> Iterator[None]:
    """Map any backend failure inside the block to ProviderError, counted exactly once."""
    try:
        yield
    except ProviderError as error:
        if not error.counted:
            PROVIDER_ERRORS.labels(error.capability, error.kind).inc()
            error.counted = True
        raise
    except Exception as error:
        kind = _kind(error)
        if kind is None:
            raise
        mapped = ProviderError(capability, kind, str(error))
        PROVIDER_ERRORS.labels(capability, kind).inc()
        mapped.counted = True
        raise mapped from error


def openai_client(config: OpenAIConfig) -> openai.AsyncOpenAI:
    """One async client for the app's lifetime (building one per request costs ~20 ms CPU)."""
    return openai.AsyncOpenAI(
        api_key=config.api_key or "offline-no-key",
        base_url=config.base_url,
        timeout=config.timeout_seconds,
        max_retries=config.max_retries,
    )
