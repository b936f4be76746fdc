"""Viva's aiohttp application factory and command-line entry point."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import secrets
import signal
import time
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import uvloop
from aiohttp import WSCloseCode, web

from api.access_log import AccessLog
from api.appkeys import (
    CALL_REGISTRY,
    CALLS,
    COLLECTOR,
    CONVERSATIONS,
    INTERVIEWS,
    LIMITER,
    REDIS,
    SETTINGS,
    STT,
    TICKETS,
    TRANSCRIPTS,
    TTS,
    VERIFIER,
    VOICE_SOCKETS,
)
from api.guards import origins, secure_page
from api.identity import anonymous_cookie, warn_if_exposed
from api.limits import Limiter
from api.metrics_site import serve_metrics
from api.middleware import errors
from api.routes import add_routes
from api.tickets import TicketStore, shared_ticket_key
from api.tokens import JwksKeys, TokenVerifier
from flows.chat import Chat
from flows.collecting import CollectorService
from flows.interviewing import InterviewService
from flows.model_chat import ModelChat
from flows.offline_chat import OfflineChat
from flows.providers.base import OpenAIConfig, openai_client
from flows.providers.openai_chat import ChatConfig, OpenAIChatModel
from flows.transcripts import TranscriptService
from flows.turns import BusyGuard, Deps
from metrics import DRAINING, GC_FROZEN, label_instance, sample_loop_lag
from settings import Settings, SettingsError
from storage.cache import QuestionCache, RedisQuestionCache
from storage.db import (
    WriteGate,
    create_engine,
    migrate,
    read_session_factory,
    session_factory,
)
from storage.shared import CallRegistry, RedisTurnGuard, redis_client
from voice.conversation import Conversations
from voice.end_of_turn import SHORT_WORD
from voice.ice import restrict_host_candidates
from voice.speech_factory import OfflineSpeechConfig, OpenAISpeechConfig, build_speech
from voice.tts import OpenAIVoiceConfig
from voice.whisper_stt import ModelError, WhisperConfig

log = logging.getLogger("viva.server")  # also when run as `python -m server`
STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[origins, errors, anonymous_cookie],
        client_max_size=_max_request_bytes(settings),
    )
    app[SETTINGS] = settings
    app[VOICE_SOCKETS] = weakref.WeakSet()
    app[CALLS] = set()
    restrict_host_candidates(settings.rtc_host_addresses)
    label_instance(settings.instance_id)
    app.cleanup_ctx.append(_loop_lag)
    app.cleanup_ctx.append(_shared_state)  # Redis first: identity and services use it
    app.cleanup_ctx.append(_identity)
    app.cleanup_ctx.append(_services)
    app.on_shutdown.append(_close_voice_sockets)
    app.on_response_prepare.append(secure_page)
    add_routes(app)
    if STATIC.is_dir():
        app.router.add_get("/", _index)
        app.router.add_static("/static/", STATIC)
    return app


def _max_request_bytes(settings: Settings) -> int:
    # multipart uploads stream through a per-part limit; this bounds everything else
    return max(settings.max_body_bytes, settings.max_audio_bytes * 2)


async def _loop_lag(_app: web.Application) -> AsyncIterator[None]:
    """Sample the event loop's lag into /metrics for as long as the app runs."""
    task = asyncio.ensure_future(sample_loop_lag())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _shared_state(app: web.Application) -> AsyncIterator[None]:
    """The Redis client (REDIS_URL) and the call registry; before and after the services."""
    settings = app[SETTINGS]
    redis = redis_client(settings.redis_url) if settings.redis_url else None
    if redis is not None:
        await redis.ping()  # type: ignore[misc]  # an unreachable Redis stops startup here
        log.info("shared state in Redis (prefix %r)", settings.redis_prefix)
    app[REDIS] = redis
    app[CALL_REGISTRY] = CallRegistry(
        settings.instance_id, redis, settings.redis_prefix, settings.call_lease_seconds
    )
    yield
    await app[CALL_REGISTRY].close()
    if redis is not None:
        await redis.aclose()


async def _identity(app: web.Application) -> AsyncIterator[None]:
    """The token verifier, socket tickets and limits (on the shared Redis client, if any)."""
    settings = app[SETTINGS]
    redis = app[REDIS]
    http = aiohttp.ClientSession() if settings.jwks_url else None
    jwks = JwksKeys(settings.jwks_url, http) if http is not None else None
    app[VERIFIER] = TokenVerifier(settings, jwks)
    ticket_key = settings.ticket_key
    if not ticket_key and redis is not None:  # several instances: one key among them
        ticket_key = await shared_ticket_key(redis, settings.redis_prefix)
    app[TICKETS] = TicketStore(
        ticket_key, settings.ticket_ttl_seconds, redis, settings.redis_prefix
    )
    app[LIMITER] = Limiter(settings.limits, redis, settings.redis_prefix)
    yield
    if http is not None:
        await http.close()


async def _services(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = create_engine(settings.resolved_database_url)
    await migrate(engine)
    client = openai_client(openai_config(settings)) if settings.use_openai else None
    model = OpenAIChatModel(client, ChatConfig(settings.openai_model)) if client else None
    chat = Chat(OfflineChat(), ModelChat(model) if model else None)
    redis = app[REDIS]
    deps = Deps(
        sessions=session_factory(engine),
        reads=read_session_factory(engine),
        chat=chat,
        writes=WriteGate.for_engine(engine),
        cache=(
            RedisQuestionCache(redis, settings.redis_prefix, settings.cache_ttl_seconds)
            if redis is not None
            else QuestionCache(settings.cache_max_sessions, settings.cache_ttl_seconds)
        ),
        guard=(
            RedisTurnGuard(redis, settings.redis_prefix, settings.turn_lease_seconds)
            if redis is not None
            else BusyGuard()
        ),
    )
    app[COLLECTOR] = CollectorService(deps)
    app[INTERVIEWS] = InterviewService(deps)
    app[TRANSCRIPTS] = TranscriptService(deps)
    app[CONVERSATIONS] = Conversations(app[COLLECTOR], app[INTERVIEWS])
    app[STT], app[TTS] = build_speech(
        openai_speech_config(settings), client, offline_speech_config(settings)
    )
    # load (and check) the recogniser and the voices, fallbacks included, before the
    # first caller: a model loaded in the middle of a call stalls its audio, a wrong model
    # file stops startup here
    await asyncio.gather(app[STT].warm_up(), app[TTS].warm_up())
    if client is None:
        log.warning(
            "no OPENAI_API_KEY: running on the offline providers (rules, question bank, %s, Piper)",
            settings.offline_stt,
        )
    else:
        log.info("providers: OpenAI (%s) with offline fallback", settings.openai_model)
    yield
    await app[STT].aclose()
    if client is not None:
        await client.close()
    await engine.dispose()


def openai_config(settings: Settings) -> OpenAIConfig:
    return OpenAIConfig(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        timeout_seconds=settings.openai_timeout_seconds,
        max_retries=settings.openai_max_retries,
    )


def offline_speech_config(settings: Settings) -> OfflineSpeechConfig:
    return OfflineSpeechConfig(
        settings.offline_stt,
        WhisperConfig(
            model_dir=Path(settings.whisper_model_dir) if settings.whisper_model_dir else None,
            concurrency=settings.whisper_concurrency,
            # the end-of-turn decision doubts a short last word Whisper is unsure of
            # (voice/end_of_turn.py, doubt_last_word): one more decoder pass per decode
            # whose last word is that short, the only ones the rule reads it for
            last_word=True,
            last_word_letters=SHORT_WORD,
            nice=settings.inference_nice,
        ),
        settings.inference_nice,
    )


def openai_speech_config(settings: Settings) -> OpenAISpeechConfig | None:
    """The OpenAI speech models, or None when speech stays offline."""
    if not settings.use_openai:
        return None
    voice = OpenAIVoiceConfig(
        settings.openai_tts_model, settings.openai_tts_voice, settings.openai_tts_format
    )
    return OpenAISpeechConfig(settings.openai_transcribe_model, voice)


async def _close_voice_sockets(app: web.Application) -> None:
    calls = app[CALLS]
    for call in list(calls):
        await call.close()
    sockets = app[VOICE_SOCKETS]
    for ws in list(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")


async def drain(app: web.Application) -> None:
    """SIGTERM: stop taking calls, tell the live ones, let their turns finish, close them.

    /readyz answers 503 from the first moment, so a load balancer stops routing here; new
    calls and voice sockets are refused with `draining` meanwhile. Live calls and voice
    sockets get a `draining` event (the page reconnects through the load balancer). The
    listener stays open at least `drain_delay_seconds` for requests already routed here.
    """
    settings = app[SETTINGS]
    started = time.monotonic()
    app[CALL_REGISTRY].draining = True
    DRAINING.set(1)
    live_calls, live_sockets = app[CALLS], app[VOICE_SOCKETS]
    # closed sockets may linger in the weak set until they are collected
    calls, sockets = list(live_calls), [ws for ws in live_sockets if not ws.closed]
    log.warning("draining: %d calls, %d voice sockets", len(calls), len(sockets))
    event = {
        "type": "draining",
        "reconnect": True,
        "message": "This server is restarting; reconnecting you.",
    }
    for call in calls:
        await call.send(event)
    for ws in sockets:
        if not ws.closed:  # it may have closed meanwhile
            await ws.send_json(event)
    await asyncio.gather(*(call.finish_turns(settings.drain_timeout_seconds) for call in calls))
    await _close_voice_sockets(app)
    rest = settings.drain_delay_seconds - (time.monotonic() - started)
    if rest > 0:
        await asyncio.sleep(rest)
    log.warning("drained in %.1f s; stopping", time.monotonic() - started)


async def run(app: web.Application, host: str, port: int, reuse_port: bool = False) -> None:
    """Serve until SIGTERM or SIGINT, then drain and stop (a second signal skips draining).

    An ignored SIGINT stays ignored (a supervisor's worker: the supervisor sends SIGTERM).
    """
    # a request whose client went away is cancelled, not finished for nobody: its
    # transaction rolls back, and decoding it started stops (calls shield their own
    # shutdown). aiohttp's test server always runs this way.
    runner = web.AppRunner(
        app, handle_signals=False, handler_cancellation=True, access_log_class=AccessLog
    )
    await runner.setup()
    _freeze_startup_objects()
    await web.TCPSite(runner, host, port, reuse_port=reuse_port or None).start()
    log.info("instance %s listening on http://%s:%d", app[SETTINGS].instance_id, host, port)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    draining: list[asyncio.Task[None]] = []

    def on_signal() -> None:
        if stop.is_set():
            for task in draining:
                task.cancel()
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            loop.add_signal_handler(signum, on_signal)
    try:
        await stop.wait()
        draining.append(asyncio.ensure_future(drain(app)))
        try:
            await draining[0]
        except asyncio.CancelledError:
            log.warning("second signal: stopping without waiting")
    finally:
        await runner.cleanup()


async def _index(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="viva", description="Viva voice interview server")
    parser.add_argument("--host", help="address to listen on (default: HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default: PORT or 8000)")
    parser.add_argument("--workers", type=int, help="server processes (default: VIVA_WORKERS or 1)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        parser.exit(2, f"viva: {error}\n")
    settings = settings.replace(
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
    )
    if settings.workers < 1:
        parser.exit(2, "viva: --workers must be at least 1\n")
    _configure_logging(settings.instance_id)
    log.info("database: %s", settings.resolved_database_url.split("@")[-1])
    warn_if_exposed(settings)
    if not settings.ticket_key and not settings.redis_url:
        # one key for every worker, so any of them redeems a ticket (with Redis, every
        # instance and worker takes the one kept there: see api.tickets.shared_ticket_key)
        settings = settings.replace(ticket_key=secrets.token_hex(32))
    if settings.workers == 1:
        try:
            serve(settings)
        except ModelError as error:
            parser.exit(2, f"viva: cannot start: {error}\n")
        return
    raise SystemExit(supervise(settings))


def serve(settings: Settings) -> None:
    """Run one server process until SIGINT/SIGTERM, then drain (see `run`) and exit."""
    app = create_app(settings)
    if settings.metrics_address:
        app.cleanup_ctx.append(serve_metrics)
    uvloop.install()  # libuv event loop: ~20 % more turns per CPU second than asyncio's own
    asyncio.run(run(app, settings.host, settings.port, reuse_port=settings.workers > 1))
    # Everything is closed and drained. Skip the interpreter's teardown: its last garbage
    # collection of the loaded models' object graphs took 15-20 s on a busy 2-core machine,
    # which a supervisor or an orchestrator's stop timeout would wait for.
    logging.shutdown()
    os._exit(0)


def _freeze_startup_objects() -> None:
    """Keep what startup built (models, question bank, statements, modules) out of the
    garbage collector's sweeps: it lives as long as the process, yet every full collection
    walked it again. Collections were ~7 % of the CPU of a REST turn before this.
    """
    started = time.monotonic()
    gc.collect()
    gc.freeze()
    GC_FROZEN.set(gc.get_freeze_count())
    log.info(
        "%d startup objects frozen out of garbage collection in %.2f s",
        gc.get_freeze_count(),
        time.monotonic() - started,
    )


def _configure_logging(instance_id: str) -> None:
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s %(levelname)s [{instance_id}] %(name)s: %(message)s",
    )
    # What the format does not show, records need not collect (the logging docs'
    # "Optimization"): the caller's file and line (a walk up the stack), thread and
    # process names. ~3.5 µs of the ~12 µs a record cost, two records per REST turn.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def supervise(settings: Settings) -> int:
    """Run `settings.workers` server processes on one port and keep them running.

    Each worker is a whole Viva (its own event loop, database pool and models) listening
    with SO_REUSEPORT, so the kernel spreads new connections across them; a WebSocket and
    the call behind it stay with the worker that accepted it. Workers share state the way
    separate instances do: through the database and, when REDIS_URL is set, Redis.
    The schema is migrated once here, so workers never race to create it. SIGTERM or
    SIGINT is passed on to every worker, which drains and exits; a worker that dies on its
    own is restarted.
    """
    asyncio.run(_migrate_once(settings))
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for process in workers.values():
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)

    def start(index: int) -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker, args=(settings, index), name=f"viva-{index}")
        process.start()
        log.info("worker %d started (pid %s)", index, process.pid)
        return process

    workers = {index: start(index) for index in range(settings.workers)}
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while workers:
        multiprocessing.connection.wait([p.sentinel for p in workers.values()])
        for index, process in list(workers.items()):
            if process.is_alive():
                continue
            process.join()
            del workers[index]
            if not stopping:
                log.error("worker %d exited (code %s); restarting it", index, process.exitcode)
                time.sleep(1.0)
                workers[index] = start(index)
    log.info("all workers stopped")
    return 0


def _worker(settings: Settings, index: int) -> None:
    # each worker is an instance of its own: its own calls, metrics and drain
    settings = settings.replace(instance_id=f"{settings.instance_id}-w{index}")
    _configure_logging(settings.instance_id)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides; SIGTERM drains
    log.info("worker %d serving on %s:%d", index, settings.host, settings.port)
    serve(settings)


async def _migrate_once(settings: Settings) -> None:
    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
