"""Verifying identity providers' JWTs with PyJWT: an HS256 shared secret and/or a JWKS URL.

Keys from the JWKS URL are cached; a token naming an unknown `kid` refetches the set (at
most once per `refetch_cooldown` seconds, so forged kids cannot make us hammer the
provider), and the whole set is refreshed once it is older than `max_age`.
Verifying costs tens to a few hundred microseconds of CPU (benchmarks/auth.py), so a small
cache of already verified tokens keeps repeated requests with one token off that path.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

import aiohttp
import jwt

from api.refusals import Refusal, unauthorized
from settings import Settings

log = logging.getLogger(f"viva.{__name__}")
ASYMMETRIC = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256")
CACHED_TOKENS = 4096


class JwksKeys:
    """The signing keys published at a JWKS URL, by key id."""

    def __init__(
        self,
        url: str,
        http: aiohttp.ClientSession,
        *,
        max_age: float = 3600.0,
        refetch_cooldown: float = 10.0,
    ) -> None:
        self.url = url
        self.http = http
        self.max_age = max_age
        self.refetch_cooldown = refetch_cooldown
        self.fetches = 0
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        stale = time.monotonic() - self._fetched_at > self.max_age
        if kid in self._keys and not stale:
            return self._keys[kid]
        async with self._lock:
            since = time.monotonic() - self._fetched_at
            if (kid not in self._keys or since > self.max_age) and since > self.refetch_cooldown:
                await self._fetch()
        return self._keys.get(kid)

    async def _fetch(self) -> None:
        self.fetches += 1
        try:
            timeout = aiohttp.ClientTimeout(total=5)
            async with self.http.get(self.url, timeout=timeout) as response:
                response.raise_for_status()
                data = await response.json(content_type=None)
            keyset = jwt.PyJWKSet.from_dict(data)
        except (aiohttp.ClientError, TimeoutError, ValueError, jwt.PyJWTError) as error:
            log.error("could not fetch the JWKS at %s: %s", self.url, error)
            if not self._keys:
                raise Refusal(
                    503, "identity_provider_unreachable", "Cannot fetch the signing keys now."
                ) from None
            return  # keep the keys we have
        self._fetched_at = time.monotonic()
        keys: dict[str | None, jwt.PyJWK] = {key.key_id: key for key in keyset.keys}
        if len(keyset.keys) == 1:
            keys[None] = keyset.keys[0]  # a token without `kid` may use a lone key
        self._keys = keys
        log.info("JWKS: %d keys from %s", len(keyset.keys), self.url)


class TokenVerifier:
    """Bearer token -> the `sub` it was issued to, or a 401 Refusal saying why not."""

    def __init__(self, settings: Settings, jwks: JwksKeys | None) -> None:
        self.secret = settings.jwt_secret
        self.jwks = jwks
        self.audience = settings.jwt_audience or None
        self.issuer = settings.jwt_issuer or None
        self.leeway = settings.jwt_leeway_seconds
        self._verified: OrderedDict[str, tuple[str, float]] = OrderedDict()

    async def subject(self, token: str) -> str:
        known = self._verified.get(token)
        if known is not None and known[1] + self.leeway > time.time():
            self._verified.move_to_end(token)
            return known[0]
        claims = await self._claims(token)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > 128:
            raise unauthorized("invalid_token", "The token's sub claim is not a usable user id.")
        self._verified[token] = (subject, float(claims["exp"]))
        if len(self._verified) > CACHED_TOKENS:
            self._verified.popitem(last=False)
        return subject

    async def _claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise unauthorized("invalid_token", "The bearer token is not a JWT.") from None
        algorithm = header.get("alg")
        key: Any
        if algorithm == "HS256" and self.secret:
            key = self.secret
        elif algorithm in ASYMMETRIC and self.jwks is not None:
            kid = header.get("kid")
            jwk = await self.jwks.key(kid if isinstance(kid, str) else None)
            if jwk is None:
                raise unauthorized("invalid_token", "The token was signed by an unknown key.")
            key = jwk.key
        else:
            raise unauthorized("invalid_token", f"Tokens signed with {algorithm!r} are refused.")
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[str(algorithm)],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("token_expired", "The token has expired.") from None
        except jwt.InvalidAudienceError:
            raise unauthorized("invalid_token", "The token is for another audience.") from None
        except jwt.InvalidIssuerError:
            raise unauthorized("invalid_token", "The token is from another issuer.") from None
        except jwt.PyJWTError as error:
            raise unauthorized("invalid_token", f"The token is not valid: {error}.") from None
