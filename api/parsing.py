"""User ids for api/identity.py, checked like every other string at the validation edge
(api/validation.py, api/schemas.py): bounded, no NUL, stripped."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from api.schemas import MAX_USER_ID, UserId
from api.validation import character_error
from flows.errors import InvalidInput

_USER_ID: TypeAdapter[str | None] = TypeAdapter(UserId)


def checked_user_id(value: object) -> str:
    try:
        checked = _USER_ID.validate_python(value, strict=True)
    except ValidationError as error:
        if error.errors()[0]["type"] in ("invalid_characters", "string_unicode"):
            raise character_error() from None
        checked = None
    if checked is None:
        raise InvalidInput(
            "invalid_user_id", f"user_id must be a non-empty string of at most {MAX_USER_ID} chars."
        )
    return checked
