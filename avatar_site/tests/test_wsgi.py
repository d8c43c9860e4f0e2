"""What a web worker does when gunicorn loads avatar_site.wsgi (in a fresh interpreter: this test
process has long since imported everything)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LOAD = "import gc, sys, avatar_site.wsgi; print(gc.get_freeze_count(), 'voices.views' in sys.modules)"


def test_it_loads_every_view_and_freezes_the_start_up_objects(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "avatar_site.settings", "VAR_DIR": str(tmp_path),
           "MEDIA_ROOT": str(tmp_path / "media"), "SECRET_KEY": "test"}

    out = subprocess.run([sys.executable, "-c", LOAD], cwd=Path(__file__).resolve().parents[2], env=env,
                         capture_output=True, text=True, check=True).stdout.split()

    frozen, views_loaded = int(out[0]), out[1]
    assert frozen > 10_000
    assert views_loaded == "True"
