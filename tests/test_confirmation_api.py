"""The collector asks back over REST (typed text with a forced low `confidence`)."""

from __future__ import annotations

from tests.conftest import AppClient, user
from tests.rest_helpers import post_json


async def _at_level(client: AppClient, owner: str) -> str:
    started = await post_json(client, "/api/collector/start", {"user_id": owner})
    session = started["collector_session_id"]
    for answer in ("yes", "backend developer", "technical"):
        await _turn(client, session, owner, answer)
    return session


async def _turn(
    client: AppClient, session: str, owner: str, text: str, confidence: float | None = None
) -> dict[str, object]:
    body: dict[str, object] = {"user_id": owner, "user_message": text}
    if confidence is not None:
        body["confidence"] = confidence
    return await post_json(client, f"/api/collector/{session}/turn", body)


async def test_low_confidence_is_confirmed_then_stored(client: AppClient) -> None:
    owner = user()
    session = await _at_level(client, owner)
    asked = await _turn(client, session, owner, "senior", confidence=0.2)
    assert asked["assistant_message"] == 'I heard "senior". Is that the level of the position?'
    assert asked["expected_field"] == "level"
    unrelated = await _turn(client, session, owner, "the sky is blue")
    assert str(unrelated["assistant_message"]).startswith("Sorry, was that a yes or a no?")
    corrected = await _turn(client, session, owner, "no, I said junior", confidence=0.9)
    assert corrected["expected_field"] == "techstack"
    assert "junior" in str(corrected["assistant_message"])
    await _turn(client, session, owner, "Python")
    done = await _turn(client, session, owner, "three")
    interview = await client.get(f"/api/interviews/{done['interview_id']}?user_id={owner}")
    assert (await interview.json())["level"] == "junior"


async def test_an_unknown_role_is_confirmed_and_a_rejoin_repeats_the_question(
    client: AppClient,
) -> None:
    owner = user()
    started = await post_json(client, "/api/collector/start", {"user_id": owner})
    session = started["collector_session_id"]
    await _turn(client, session, owner, "yes")
    asked = await _turn(client, session, owner, "oath")
    assert asked["assistant_message"] == 'I heard "oath". Is that the role you\'re preparing for?'
    transcript = await client.get(f"/api/transcripts/collector/{session}?user_id={owner}")
    assert (await transcript.json())["items"][-1]["message"] == asked["assistant_message"]
    confirmed = await _turn(client, session, owner, "yes")
    assert confirmed["expected_field"] == "interview_type"
    assert "oath" in str(confirmed["assistant_message"])  # an unusual title, after a yes


async def test_confidence_must_be_a_number_from_0_to_1(client: AppClient) -> None:
    owner = user()
    started = await post_json(client, "/api/collector/start", {"user_id": owner})
    path = f"/api/collector/{started['collector_session_id']}/turn"
    for bad in (1.5, -0.1, "low", True):
        body = {"user_id": owner, "user_message": "yes", "confidence": bad}
        error = await post_json(client, path, body, status=400)
        assert error["code"] == "invalid_confidence"
