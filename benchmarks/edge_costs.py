"""What the validation edge costs on the event loop, per request, side by side with the
stdlib reading it replaced (json.loads and hand-written checks, json.dumps replies):

    python -m benchmarks.edge_costs [--rounds 20000]

Process CPU time per operation, in one process, alternating the two ways; the ratio is
the figure to quote on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from api import schemas, validation

TURN = json.dumps(
    {"user_id": "user-0123456789", "user_message": "I would add an index and a queue. " * 6}
).encode()
VOICE = json.dumps({"type": "user_text", "text": "Python, Django and Postgres"})
REPLY: dict[str, Any] = {
    "interview_session_id": "5f0c8a52-3b1e-4a4c-9a55-0d4a2a9d6c11",
    "user_id": "user-0123456789",
    "assistant_message": "Thanks, that's a clear answer. Next question: how would you shard it?",
    "status": "active",
    "question_index": 1,
}


def stdlib_turn() -> object:
    body = json.loads(TURN)
    if not isinstance(body, dict):
        raise ValueError
    owner, text = body.get("user_id"), body.get("user_message")
    if not isinstance(owner, str) or len(owner) > 128 or not isinstance(text, str):
        raise ValueError
    return owner.strip(), text.strip()


def edge_turn() -> object:
    data = validation.parse_json(TURN)
    return validation.validate(schemas.TurnRequest, data)


def stdlib_voice() -> object:
    data = json.loads(VOICE)
    return data["type"], data["text"].strip()


def edge_voice() -> object:
    unknown = validation.InvalidInput("unknown_type", "")
    return validation.message(schemas.VOICE_MESSAGES, VOICE, unknown)


def stdlib_reply() -> object:
    return json.dumps(dict(REPLY)).encode()


def edge_reply() -> object:
    return schemas.InterviewReply(**REPLY).model_dump_json()


def per_call_us(step: Callable[[], object], rounds: int) -> float:
    step()
    began = time.process_time()
    for _ in range(rounds):
        step()
    return (time.process_time() - began) / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20000)
    rounds = parser.parse_args().rounds
    print("| step | stdlib µs | edge µs | edge / stdlib |")
    print("|---|---|---|---|")
    for name, old, new in (
        ("REST turn body (parse + check)", stdlib_turn, edge_turn),
        ("socket user_text message", stdlib_voice, edge_voice),
        ("interview reply (serialize)", stdlib_reply, edge_reply),
    ):
        old_us = min(per_call_us(old, rounds) for _ in range(3))
        new_us = min(per_call_us(new, rounds) for _ in range(3))
        print(f"| {name} | {old_us:.2f} | {new_us:.2f} | {new_us / old_us:.2f} |")


if __name__ == "__main__":
    main()
