"""Settings read from the environment, each case in a fresh interpreter."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

SHOW = "from django.conf import settings as s; print(s.DATABASES['default']['NAME']); print(s.MEDIA_ROOT); print(len(s.SECRET_KEY))"


def settings_of(var_dir, **environment) -> list[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "MEDIA_ROOT", "SECRET_KEY")}
    env.update(DJANGO_SETTINGS_MODULE="avatar_site.settings", VAR_DIR=str(var_dir), **environment)
    return subprocess.run([sys.executable, "-c", f"import django; django.setup(); {SHOW}"],
                          cwd=Path(__file__).resolve().parents[2], env=env,
                          capture_output=True, text=True, check=True).stdout.split()


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
    assert [path.name for path in var_dir.iterdir()] == ["secret_key"]  # no partial file left
