"""Health for load balancers: GET /healthz (alive) and GET /readyz (route calls here?)."""

from __future__ import annotations

from aiohttp import web
from redis.exceptions import RedisError

from api.appkeys import CALL_REGISTRY, REDIS, SETTINGS
from api.middleware import error_response


async def healthz(request: web.Request) -> web.Response:
    """The process is up: its instance id, whether it drains, how many calls it holds."""
    registry = request.app[CALL_REGISTRY]
    return web.json_response(
        {
            "status": "ok",
            "instance_id": request.app[SETTINGS].instance_id,
            "draining": registry.draining,
            "calls": len(registry),
        }
    )


async def readyz(request: web.Request) -> web.Response:
    """200 while this instance takes new work; 503 once it drains or loses Redis."""
    app = request.app
    instance_id = app[SETTINGS].instance_id
    if app[CALL_REGISTRY].draining:
        response = error_response(503, "draining", f"Instance {instance_id} is shutting down.")
        response.headers["Retry-After"] = "1"
        return response
    redis = app[REDIS]
    if redis is not None:
        try:
            await redis.ping()  # type: ignore[misc]
        except (RedisError, OSError):
            return error_response(503, "redis_unreachable", "This instance cannot reach Redis.")
    return web.json_response({"status": "ready", "instance_id": instance_id})
