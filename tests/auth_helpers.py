"""Real signed tokens for tests: an HS256 shared secret and an ES256 key published as a
JWKS by a small server on 127.0.0.1, the way Supabase and JWKS providers issue them."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec

SECRET = "test-shared-secret-that-is-at-least-32-bytes-long"
AUDIENCE = "authenticated"
ISSUER = "http://127.0.0.1/auth/v1"
JWKS_KEYS: web.AppKey[list[dict[str, Any]]] = web.AppKey("jwks_keys", list)


class Signer:
    """An ES256 key pair; `jwk` is its public half as a JWKS entry."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = ec.generate_private_key(ec.SECP256R1())
        public = jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jwk: dict[str, Any] = {**public, "kid": kid, "alg": "ES256", "use": "sig"}


def claims(sub: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": sub, "aud": AUDIENCE, "iss": ISSUER, "iat": now, "exp": now + 600} | overrides


def hs256(sub: str, secret: str = SECRET, **overrides: Any) -> str:
    return jwt.encode(claims(sub, **overrides), secret, algorithm="HS256")


def es256(sub: str, signer: Signer, kid: str | None = None, **overrides: Any) -> str:
    headers = {"kid": kid or signer.kid}
    return jwt.encode(claims(sub, **overrides), signer.private, algorithm="ES256", headers=headers)


def unsigned(sub: str) -> str:
    """`alg: none`: claims anyone can write."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims(sub))}."


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def jwks_app(*signers: Signer) -> web.Application:
    """Serves GET /jwks.json; tests may append keys to app[JWKS_KEYS] to rotate."""

    async def keys(request: web.Request) -> web.Response:
        return web.json_response({"keys": request.app[JWKS_KEYS]})

    app = web.Application()
    app[JWKS_KEYS] = [signer.jwk for signer in signers]
    app.router.add_get("/jwks.json", keys)
    return app
