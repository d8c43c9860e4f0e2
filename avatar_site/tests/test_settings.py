"""Settings read from the environment, each case in a fresh interpreter."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

SHOW = "print(s.DATABASES['default']['NAME']); print(s.MEDIA_ROOT); print(len(s.SECRET_KEY))"


def start(var_dir, show: str = SHOW, **environment) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "MEDIA_ROOT", "SECRET_KEY")}
    env.update(DJANGO_SETTINGS_MODULE="avatar_site.settings", VAR_DIR=str(var_dir), **environment)
    return subprocess.run([sys.executable, "-c", f"import django; django.setup(); from django.conf import settings as s; {show}"],
                          cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True)


def settings_of(var_dir, **environment) -> list[str]:
    started = start(var_dir, **environment)
    assert started.returncode == 0, started.stderr
    return started.stdout.split()


def test_variables_set_but_empty_mean_their_defaults(tmp_path):
    database, media_root, _ = settings_of(tmp_path / "var", DATABASE_URL="", MEDIA_ROOT=" ", SECRET_KEY="")

    assert database == str(tmp_path / "var" / "db.sqlite3")
    assert media_root == str(Path(__file__).resolve().parents[2] / "media")


def test_a_secret_key_is_made_once_kept_private_and_remade_when_its_file_is_empty(tmp_path):
    var_dir = tmp_path / "var"
    key_file = var_dir / "secret_key"

    *_, length = settings_of(var_dir)
    first = key_file.read_text()
    settings_of(var_dir)
    assert key_file.read_text() == first
    key_file.write_text("")
    settings_of(var_dir)

    assert int(length) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text() != first and key_file.read_text().strip()
    assert not list(var_dir.glob(".secret_key*"))  # no partial file left


def test_an_empty_list_variable_means_its_default(tmp_path):
    shown = start(tmp_path, "print(s.ALLOWED_HOSTS, s.GPU_QUEUES)", ALLOWED_HOSTS="", GPU_QUEUES=" , ")

    assert shown.stdout.strip() == "['localhost', '127.0.0.1', '[::1]'] ['GPU0']"


def test_shared_input_roots_come_before_the_media_folder_not_instead_of_it(tmp_path):
    shown = start(tmp_path, "print(*s.INPUT_ROOTS)", INPUT_ROOTS="/srv/shared", MEDIA_ROOT=str(tmp_path / "media"))

    assert shown.stdout.split() == ["/srv/shared", str(tmp_path / "media")]


def test_redis_connections_time_out_unless_the_url_says_otherwise(tmp_path):
    shown = start(tmp_path, "print(s.Q_CLUSTER['redis'])", REDIS_URL="redis://:pw@redis-host:6379/0?socket_timeout=2")

    assert shown.stdout.strip() == "redis://:pw@redis-host:6379/0?socket_connect_timeout=5&socket_timeout=2"


@pytest.mark.parametrize(("environment", "named"), [
    ({"SECRET_KEY": "change-me-to-a-long-random-string", "DEBUG": "0"}, "SECRET_KEY"),
    ({"GPU_QUEUES": "GPU0,GPU0"}, "GPU_QUEUES"),
    ({"GPU_QUEUES": "GPU0,CPU"}, "GPU_QUEUES"),
    ({"DATABASE_URL": "garbage"}, "DATABASE_URL"),
    ({"SYNC_WAIT_SECONDS": "nan"}, "SYNC_WAIT_SECONDS"),
    ({"MAX_MEDIA_SECONDS": "-5"}, "MAX_MEDIA_SECONDS"),
    ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL"),
    ({"VOICE_ENGINE": "nonesuch"}, "VOICE_ENGINE"),
    ({"GPU_DEVICES": "bogus"}, "GPU_DEVICES"),
    ({"GPU_QUEUES": "GPU0", "GPU_DEVICES": "GPU1=0"}, "GPU_DEVICES"),
    ({"GPU_DEVICES": "GPU0="}, "GPU_DEVICES"),
    ({"GPU_QUEUES": "GPU0,GPU1", "Q_CLUSTER_NAME": "GPU7"}, "Q_CLUSTER_NAME"),
], ids=["placeholder-key", "queue-twice", "queue-named-cpu", "database-url", "nan-wait", "negative-limit",
        "log-level", "voice-engine", "devices-garbage", "devices-unknown-queue", "devices-no-device",
        "worker-for-unknown-queue"])
def test_a_value_that_cannot_work_stops_the_start_naming_its_variable(tmp_path, environment, named):
    started = start(tmp_path, "pass", **environment)

    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr and named in started.stderr.splitlines()[-1]


def test_behind_https_cookies_are_secure_and_requests_count_as_secure(tmp_path):
    shown = start(tmp_path, "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)",
                  BEHIND_HTTPS="1")

    assert shown.stdout.strip() == "True True ('HTTP_X_FORWARDED_PROTO', 'https')"
