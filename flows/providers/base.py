"""What every provider shares: one error type, one error mapping, one OpenAI client.

Transport failures (429, 5xx, timeouts, connection errors) are retried with exponential
backoff by the official SDK (`max_retries`, honouring Retry-After); what is still failing
after that is mapped here, once, to `ProviderError`, and the caller degrades to the
offline behaviour for that turn.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import openai

from metrics import PROVIDER_ERRORS
from settings import Settings

log = logging.getLogger(f"viva.{__name__}")


class ProviderError(Exception):
    """A provider could not do its job; the caller falls back or reports it."""

    def __init__(self, capability: str, kind: str, detail: str) -> None:
        super().__init__(f"{capability} provider failed ({kind}): {detail}")
        self.capability = capability
        self.kind = kind


@contextmanager
def provider_errors(capability: str) -> Iterator[None]:
    """Map any backend failure inside the block to ProviderError (and count it)."""
    try:
        yield
    except ProviderError as error:
        PROVIDER_ERRORS.labels(capability, error.kind).inc()
        raise
    except openai.APITimeoutError as error:
        PROVIDER_ERRORS.labels(capability, "timeout").inc()
        raise ProviderError(capability, "timeout", str(error)) from error
    except openai.APIConnectionError as error:
        PROVIDER_ERRORS.labels(capability, "connection").inc()
        raise ProviderError(capability, "connection", str(error)) from error
    except openai.APIStatusError as error:
        kind = "rate_limited" if error.status_code == 429 else f"http_{error.status_code}"
        PROVIDER_ERRORS.labels(capability, kind).inc()
        raise ProviderError(capability, kind, str(error)) from error
    except (ValueError, KeyError, TypeError) as error:  # malformed payloads
        PROVIDER_ERRORS.labels(capability, "invalid_output").inc()
        raise ProviderError(capability, "invalid_output", str(error)) from error


def openai_client(settings: Settings) -> openai.AsyncOpenAI:
    """One async client for the app's lifetime (building one per request costs ~20 ms CPU)."""
    return openai.AsyncOpenAI(
        api_key=settings.openai_api_key or "offline-no-key",
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_seconds,
        max_retries=settings.openai_max_retries,
    )
