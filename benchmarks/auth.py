"""What identity costs on the event loop: verifying a token, sealing and opening a ticket.

Verification runs on the event loop (it is short and holds the GIL), so this measures it:
microseconds of CPU per call for HS256, ES256 and RS256 tokens seen for the first time,
for a token already verified (the verifier's cache), and for a socket ticket's round trip.

    .venv/bin/python -m benchmarks.auth [--n 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import time
from collections.abc import Awaitable, Callable

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from api.tickets import TicketStore
from api.tokens import TokenVerifier
from settings import Settings
from tests.auth_helpers import SECRET, Signer, claims, es256, hs256


class _StaticKeys:
    """A JWKS already fetched: the verifier's key lookup without the network."""

    def __init__(self, keys: dict[str, jwt.PyJWK]) -> None:
        self.keys = keys

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        return self.keys.get(kid or "")


async def _verify_nth(verifier: TokenVerifier, tokens: list[str], index: int) -> str:
    return await verifier.subject(tokens[index])


async def per_call_us(n: int, call: Callable[[int], Awaitable[object]]) -> float:
    start = time.process_time()
    for index in range(n):
        await call(index)
    return (time.process_time() - start) / n * 1e6


async def run(n: int) -> None:
    signer = Signer("es")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_jwk = jwt.PyJWK(
        {**jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True), "kid": "rs"},
        algorithm="RS256",
    )
    keys = {"es": jwt.PyJWK(signer.jwk, algorithm="ES256"), "rs": rsa_jwk}
    settings = Settings(auth="jwt", jwt_secret=SECRET)
    verifier = TokenVerifier(settings, _StaticKeys(keys))  # type: ignore[arg-type]

    def rs256(sub: str) -> str:
        return jwt.encode(claims(sub), rsa_key, algorithm="RS256", headers={"kid": "rs"})

    rows: list[tuple[str, float]] = []
    for name, mint in (("HS256", hs256), ("ES256", lambda s: es256(s, signer)), ("RS256", rs256)):
        tokens = [mint(f"user-{i}") for i in range(n)]  # minted outside the measurement
        first_sight = functools.partial(_verify_nth, verifier, tokens)
        rows.append((f"{name}, first sight", await per_call_us(n, first_sight)))
    same = hs256("user-cached")
    rows.append(("any, cached", await per_call_us(n, lambda _i: verifier.subject(same))))
    store = TicketStore("bench-key", 60)

    async def ticket_round_trip(index: int) -> str:
        return await store.redeem(
            store.issue("u", "interview", str(index)), "interview", str(index)
        )

    rows.append(("ticket issue + redeem", await per_call_us(n, ticket_round_trip)))
    print(f"CPU µs per call on the event loop ({n} calls each):")
    for name, micros in rows:
        print(f"  {name:<24} {micros:8.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    asyncio.run(run(parser.parse_args().n))
