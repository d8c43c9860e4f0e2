"""Settings for the avatar platform.

Everything an operator changes comes from environment variables (see README "Configuration").
The defaults run the whole platform on one machine: SQLite, the django-q2 ORM broker, the media
folder beside the code and the built-in CPU engines.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from avatar_site.lib.env import env_bool, env_choice, env_float, env_int, env_list, env_str, with_query_defaults

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in VAR_DIR."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    key_file = VAR_DIR / "secret_key"
    if key_file.exists() and (key := key_file.read_text().strip()):
        return key
    # Written whole or not at all (an empty file from a crash would stop every later start).
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    partial = key_file.with_name(f".secret_key.{os.getpid()}")
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(key)
    os.replace(partial, key_file)
    return key


SECRET_KEY = _secret_key()
if not DEBUG and SECRET_KEY.startswith("change-me"):
    # deploy/env.example's placeholder. django-q signs the payloads it puts in the broker with the
    # key: a published one lets whoever can write to Redis run code on the workers.
    raise ImproperlyConfigured("SECRET_KEY is deploy/env.example's placeholder; set a long random one "
                               "(python -c 'import secrets; print(secrets.token_urlsafe(50))').")

# Behind a proxy that terminates TLS (deploy/nginx.conf sends X-Forwarded-Proto): cookies go
# over HTTPS only, and Django knows requests were secure (CSRF compares origins by scheme).
BEHIND_HTTPS = env_bool("BEHIND_HTTPS", False)
if BEHIND_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "monitoring",
    "voices",
    "training",
    "generation",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "avatar_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "avatar_site" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "avatar_site.wsgi.application"

# Connections are kept (one per web thread) and checked before reuse: opening one cost ~1 ms per
# request with SQLite here and more with PostgreSQL. Each web process may then hold as many
# PostgreSQL connections as it has threads (16): size max_connections for workers × 16 + queues.
def _database(url: str) -> dict:
    try:
        return dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
                                     conn_health_checks=True)
    except (ValueError, dj_database_url.UnknownSchemeError) as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL ({exc}); e.g. "
                                   "postgres://user:password@host/name or sqlite:////path/db.sqlite3") from None


DATABASES = {"default": _database(env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server and queue workers write to the same file: wait for locks instead of failing,
    # and let readers go on while a writer works. IMMEDIATE: a transaction takes the write lock
    # when it begins, where the timeout applies; a deferred one that read first and then writes
    # fails at once ("database is locked") when another writer committed in between, which
    # concurrent job submissions did.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE",
         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
    # A file, not memory, so that tests can start real queue workers on the test database; one per
    # test run, so that two runs in one checkout do not lock or flush each other's.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_db_{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["avatar_site.lib.auth.CachedModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"  # collectstatic is optional: whitenoise also serves from the apps
try:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # else whitenoise warns at every start
except OSError:  # a read-only VAR_DIR is fine with SECRET_KEY and DATABASE_URL set
    pass
# Serve app static files (admin, pages) straight from their folders: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True

# Media: uploads, cloned voices, trained avatars and rendered videos.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media"))).resolve()
MEDIA_URL = "/media/"
# Below this much free space on the media folder's disk, new jobs are refused and failing jobs
# are reported as "disk full" (503) rather than as bad input.
MEDIA_MIN_FREE_MB = env_int("MEDIA_MIN_FREE_MB", 64, minimum=0)
# Client-given paths (model_param, ref_video, original_audio_path) must lie under one of these:
# folders the operator shares, then the media folder (where a user's own files are; relative
# paths resolve in the first).
INPUT_ROOTS = list(dict.fromkeys([*(Path(p).resolve() for p in env_list("INPUT_ROOTS", [])), MEDIA_ROOT]))
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_MB", 500, minimum=1) * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "avatar_site.lib.uploads.SizeLimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    # Large uploads stream to a temporary file on the media disk (MEDIA_ROOT/tmp/uploads), whose
    # free space is checked, rather than to /tmp.
    "avatar_site.lib.uploads.MediaDiskUploadHandler",
]
FILE_UPLOAD_PERMISSIONS = 0o644
# Longest accepted media, checked by probing before any work starts.
MAX_MEDIA_SECONDS = env_float("MAX_MEDIA_SECONDS", 600.0)
MAX_MEDIA_PIXELS = env_int("MAX_MEDIA_PIXELS", 4096 * 4096, minimum=1)

FFMPEG_BINARY = env_str("FFMPEG_BINARY", "")  # empty: the static build that imageio-ffmpeg ships
FFPROBE_BINARY = env_str("FFPROBE_BINARY", "ffprobe")

# Queues: one per GPU, each running one job at a time, and one for light CPU work.
GPU_QUEUES = env_list("GPU_QUEUES", ["GPU0"])
if len(set(GPU_QUEUES)) != len(GPU_QUEUES) or "CPU" in GPU_QUEUES:
    # Two workers on one queue would run two jobs on one GPU at once.
    raise ImproperlyConfigured(f"GPU_QUEUES={','.join(GPU_QUEUES)} names a queue twice, or CPU (the CPU queue's name).")
# Per host: which CUDA device runs a GPU queue ("GPU1=0" on a host whose one GPU serves GPU1);
# a queue not listed uses its own number.
GPU_DEVICES = env_list("GPU_DEVICES", [])
for _entry in GPU_DEVICES:
    _queue, _, _device = _entry.partition("=")
    if _queue.strip() not in GPU_QUEUES or not _device.strip():
        raise ImproperlyConfigured(f"GPU_DEVICES entry {_entry!r}: write <queue>=<CUDA device> for one of "
                                   f"GPU_QUEUES ({','.join(GPU_QUEUES)}), e.g. {GPU_QUEUES[-1]}=0.")
CPU_QUEUE = "CPU"
# How this worker's tasks name it, for recovery (monitoring/recovery.py): the host name unless set.
# Containers sharing the host's name (host networking) each need their own, kept across restarts.
WORKER_ID = env_str("WORKER_ID", "")
# A worker started for a queue the site does not have (a typo in avatar-worker@…) would never get a job.
if os.environ.get("Q_CLUSTER_NAME") and os.environ["Q_CLUSTER_NAME"] not in [*GPU_QUEUES, CPU_QUEUE]:
    raise ImproperlyConfigured(f"Q_CLUSTER_NAME={os.environ['Q_CLUSTER_NAME']} is none of this site's queues: "
                               f"{', '.join([*GPU_QUEUES, CPU_QUEUE])} (GPU_QUEUES and CPU).")
CPU_QUEUE_WORKERS = env_int("CPU_QUEUE_WORKERS", 1, minimum=1)
JOB_TIMEOUT = env_int("JOB_TIMEOUT", 6 * 3600, minimum=10)
# /video_generation and /chat_system answer synchronously, as the API spec shows, by waiting
# this long for their job; after that they answer 202 with the task id.
SYNC_WAIT_SECONDS = env_float("SYNC_WAIT_SECONDS", 600.0)

# runplatform's web server: where gunicorn listens and how many worker processes it starts.
BIND = env_str("BIND", "127.0.0.1:8000")
WEB_WORKERS = env_int("WEB_WORKERS", 3, minimum=1)

REDIS_URL = env_str("REDIS_URL", "")
Q_CLUSTER = {
    # One name for every queue: it signs the payloads. Queues are django-q "clusters".
    "name": "avatar",
    "workers": 1,
    "timeout": JOB_TIMEOUT,
    "retry": JOB_TIMEOUT + 600,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 250,
    # External engines start child processes, which daemonic workers may not.
    "daemonize_workers": False,
    "poll": 0.5,
    "ALT_CLUSTERS": {
        **{queue: {"workers": 1} for queue in GPU_QUEUES},
        CPU_QUEUE: {"workers": CPU_QUEUE_WORKERS},
    },
}
if REDIS_URL:
    Q_CLUSTER["redis"] = with_query_defaults(
        # A Redis that accepts connections but does not answer would hold a request (or an avatar's
        # deletion) for good: give up, and answer 503. Above django-q's 1 s wait for a job.
        REDIS_URL, socket_connect_timeout="5", socket_timeout="30")
else:
    Q_CLUSTER["orm"] = "default"

# Engines, chosen by name in requests; each value is the dotted path of the engine class.
TALKING_HEAD_ENGINES = {
    "builtin": "training.engines.builtin.BuiltinTalkingHead",
    "SyncTalk": "training.engines.synctalk.SyncTalk",
    "ER-NeRF": "training.engines.ernerf.ERNeRF",
}
DEFAULT_TALKING_HEAD_ENGINE = env_choice("DEFAULT_TALKING_HEAD_ENGINE", "builtin", list(TALKING_HEAD_ENGINES))
VOICE_ENGINES = {
    "builtin": "voices.engines.builtin.BuiltinVoice",
    "gpt-sovits": "voices.engines.gpt_sovits.GPTSoVITS",
    "cosyvoice": "voices.engines.cosyvoice.CosyVoice",
}
VOICE_ENGINE = env_choice("VOICE_ENGINE", "builtin", list(VOICE_ENGINES))
ASR_ENGINES = {
    "pocketsphinx": "chat.engines.pocketsphinx.PocketSphinx",
    "whisper": "chat.engines.whisper.Whisper",
}
ASR_ENGINE = env_choice("ASR_ENGINE", "pocketsphinx", list(ASR_ENGINES))
LLM_ENGINES = {
    "glm-4-plus": "chat.engines.zhipu.Zhipu",
}

SYNCTALK_HOME = env_str("SYNCTALK_HOME", "")
ERNERF_HOME = env_str("ERNERF_HOME", "")

ZHIPUAI_API_KEY = env_str("ZHIPUAI_API_KEY", "")

REST_FRAMEWORK = {
    # Token first: unauthenticated requests then get 401 with a WWW-Authenticate header, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "avatar_site.lib.auth.CachedTokenAuthentication",
        "avatar_site.lib.auth.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
        "avatar_site.lib.parsers.StrictJSONParser",
    ],
    # JSON only, whatever the client accepts: the spec's clients read {"status": …, "message": …},
    # and a browser opening a status_url gets that too, not DRF's browsable HTML (nor a 406).
    "DEFAULT_RENDERER_CLASSES": ["avatar_site.lib.links.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "avatar_site.lib.negotiation.FirstRendererWhenNoneAccepted",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "avatar_site.lib.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Avatar platform API",
    "DESCRIPTION": "Talking-head avatars: training, voice cloning, video generation and voice chat.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's files come from the sidecar package: the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "avatar_site.lib.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {"TalkingHeadEngineEnum": ["builtin", "SyncTalk", "ER-NeRF"]},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO",
                                                         ["DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL"])},
    # Requests for hosts not in ALLOWED_HOSTS (scanners) get their 400 without a traceback each.
    "loggers": {"django.security.DisallowedHost": {"handlers": [], "propagate": False}},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# Voice cloning and text limits.
MAX_REFERENCE_SECONDS = env_float("MAX_REFERENCE_SECONDS", 300.0)
MAX_TEXT_CHARS = env_int("MAX_TEXT_CHARS", 2000, minimum=1)

# Voice chat.
MAX_RECORDING_SECONDS = env_float("MAX_RECORDING_SECONDS", 60.0)
CHAT_HISTORY_TURNS = env_int("CHAT_HISTORY_TURNS", 6, minimum=0)
CHAT_SYSTEM_PROMPT = env_str(
    "CHAT_SYSTEM_PROMPT",
    "你是一个友好的数字人助手。请用简短、口语化的句子回答，每次回答不超过三句话。",
)

# Chat engines: speech recognition and language models (see README "Voice chat").
# ASR_LANGUAGE is the language users speak to the avatar; pocketsphinx only understands English.
ASR_LANGUAGE = env_str("ASR_LANGUAGE", "en")
WHISPER_MODEL_PATH = env_str("WHISPER_MODEL_PATH", "")
WHISPER_LANGUAGE = env_str("WHISPER_LANGUAGE", ASR_LANGUAGE)
WHISPER_INITIAL_PROMPT = env_str("WHISPER_INITIAL_PROMPT", "")
WHISPER_DEVICE = env_str("WHISPER_DEVICE", "auto")
WHISPER_COMPUTE_TYPE = env_str("WHISPER_COMPUTE_TYPE", "default")
ZHIPUAI_BASE_URL = env_str("ZHIPUAI_BASE_URL", "")
ZHIPUAI_TIMEOUT = env_float("ZHIPUAI_TIMEOUT", 60.0)
ZHIPUAI_MAX_RETRIES = env_int("ZHIPUAI_MAX_RETRIES", 2, minimum=0)
LLM_OPENAI_BASE_URL = env_str("LLM_OPENAI_BASE_URL", "")
LLM_OPENAI_MODEL = env_str("LLM_OPENAI_MODEL", "")
LLM_OPENAI_API_KEY = env_str("LLM_OPENAI_API_KEY", "")
LLM_OPENAI_TIMEOUT = env_float("LLM_OPENAI_TIMEOUT", 120.0)
# Offered as an api_choice only where a server is configured.
if LLM_OPENAI_BASE_URL:
    LLM_ENGINES["openai-compatible"] = "chat.engines.openai_compatible.OpenAICompatible"

# GPU engines (issue 5): SyncTalk and ER-NeRF checkouts (SYNCTALK_HOME / ERNERF_HOME above), each
# run with the Python of its own environment, and the audio features each one trains on.
SYNCTALK_PYTHON = env_str("SYNCTALK_PYTHON", sys.executable)
SYNCTALK_ASR = env_choice("SYNCTALK_ASR", "ave", ["ave", "deepspeech", "hubert"])
ERNERF_PYTHON = env_str("ERNERF_PYTHON", sys.executable)
ERNERF_ASR = env_choice("ERNERF_ASR", "deepspeech", ["deepspeech", "hubert"])
# OpenFace's FeatureExtraction binary: ER-NeRF's au.csv (eye blinks) is made with it when set.
OPENFACE_FEATURE_EXTRACTION = env_str("OPENFACE_FEATURE_EXTRACTION", "")

# Pages (issue 7): the site-wide static files (layout CSS, the shared API helper) beside base.html.
STATICFILES_DIRS = [BASE_DIR / "avatar_site" / "static"]
# How many seconds of readings the status page's charts keep (it polls every STATUS_POLL_SECONDS).
STATUS_POLL_SECONDS = env_float("STATUS_POLL_SECONDS", 3.0)
STATUS_CHART_MINUTES = env_float("STATUS_CHART_MINUTES", 5.0)
# /api/history: a user's total_count of at least this many rows is reused for this many seconds
# (counting 100 000 rows on every page is what made the endpoint slow; see monitoring/paging.py).
HISTORY_COUNT_CACHE_MIN_ROWS = env_int("HISTORY_COUNT_CACHE_MIN_ROWS", 10_000, minimum=0)
HISTORY_COUNT_CACHE_SECONDS = env_float("HISTORY_COUNT_CACHE_SECONDS", 10.0)
# An API token's or a session's user is remembered this many seconds per web process instead of
# queried on every request (see avatar_site/lib/auth.py for what that means for a deleted token).
AUTH_CACHE_SECONDS = env_float("AUTH_CACHE_SECONDS", 10.0)
# Paths that API clients call: their errors answer JSON in the spec's shape, even when no route
# matched, and browser apps of CORS_ALLOWED_ORIGINS may call them.
API_PATH_PREFIXES = ("/api/", "/video", "/media/", "/audio_clone", "/model_training", "/chat_system", "/save_audio")
# Browser apps on other origins (https://app.example.org) that call the API with a token: their
# origins. Only the API and media paths answer them, never with cookies (a session stays
# same-origin). Empty: no cross-origin calls.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = "^(" + "|".join(re.escape(prefix) for prefix in API_PATH_PREFIXES) + ")"
CORS_ALLOW_CREDENTIALS = False
# Token clients get media links signed for this long (a <video> element cannot send the token;
# see avatar_site/lib/links.py). A link shown again later is signed afresh.
MEDIA_LINK_SECONDS = env_int("MEDIA_LINK_SECONDS", 3600, minimum=1)

# Voice cloning engines (issue 4): external clone servers; empty URL = engine unavailable (503).
GPT_SOVITS_URL = env_str("GPT_SOVITS_URL", "")
GPT_SOVITS_MEDIA_ROOT = env_str("GPT_SOVITS_MEDIA_ROOT", "")  # MEDIA_ROOT as the GPT-SoVITS server sees it
COSYVOICE_URL = env_str("COSYVOICE_URL", "")
COSYVOICE_SAMPLE_RATE = env_int("COSYVOICE_SAMPLE_RATE", 22050, minimum=8000)
# CosyVoice 1's <|en|> before cross-lingual text (upstream's example); upstream then skips its own
# text normalisation and splitting, so it is off unless asked for (voices/engines/cosyvoice.py).
COSYVOICE_LANGUAGE_TAGS = env_bool("COSYVOICE_LANGUAGE_TAGS", False)
VOICE_SERVER_TIMEOUT_S = env_float("VOICE_SERVER_TIMEOUT_S", 300.0)

# Built-in CPU talking-head engine (training/engines/builtin).
BUILTIN_TH_MIN_SECONDS = env_float("BUILTIN_TH_MIN_SECONDS", 3.0)
BUILTIN_TH_MAX_SECONDS = env_float("BUILTIN_TH_MAX_SECONDS", 120.0)
BUILTIN_TH_SIZE = env_int("BUILTIN_TH_SIZE", 512, minimum=128)
# How many seconds of the reference the idle head motion loops over (all are decoded into memory to render).
BUILTIN_TH_BASE_SECONDS = env_float("BUILTIN_TH_BASE_SECONDS", 10.0)

# Trained avatars uploaded as a zip in model_param: the most they may unpack to.
MAX_AVATAR_ARCHIVE_BYTES = env_int("MAX_AVATAR_ARCHIVE_MB", 2048, minimum=1) * 1024 * 1024
