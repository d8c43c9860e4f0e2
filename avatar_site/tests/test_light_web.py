"""Web processes check requests without loading the engines' heavy modules (torch, MediaPipe, OpenCV,
WORLD, resemblyzer): those load only in the queue workers that run jobs. A fresh interpreter shows
what a request really imports; this test process has them all loaded already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ["torch", "mediapipe", "cv2", "pyworld", "resemblyzer", "scipy.signal", "webrtcvad"]

REQUESTS = r"""
import json, os, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth.models import User
from rest_framework.test import APIClient
from monitoring import jobs
from tests.media import test_video, tone_wav
from training.models import Avatar
from voices.models import Speaker

jobs.enqueue = lambda task: None  # no worker here: the jobs stay queued
inputs = os.environ["INPUT_ROOTS"]
api = APIClient()
api.force_authenticate(User.objects.create_user("alice"))
video, voice = test_video(f"{inputs}/face.mp4"), tone_wav(f"{inputs}/voice.wav")
Speaker.objects.create(id="ready_voice", name="v", engine="builtin", status="ready", owner=api.handler._force_user)
answers = {
    "model_training": api.post("/model_training", {"model_choice": "builtin", "ref_video": video,
                                                   "gpu_choice": "GPU0", "epoch": "1"}).status_code,
    "audio_clone clone": api.post("/audio_clone", {"original_audio_path": voice, "audio_id": "new_voice"}).status_code,
    "audio_clone generate": api.post("/audio_clone", {"audio_id": "ready_voice", "gen_audio_id": "g",
                                                      "generate_text": "hello"}).status_code,
    "audio_clone gpt-sovits": api.post("/audio_clone", {"original_audio_path": voice, "audio_id": "remote_voice",
                                                        "engine": "gpt-sovits"}).status_code,
    "api/engines": api.get("/api/engines").status_code,
}
print(json.dumps({"answers": answers, "loaded": [name for name in json.loads(sys.argv[1]) if name in sys.modules]}))
"""


def test_checking_requests_loads_no_engine_internals(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "avatar_site.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "web-media"),
        "INPUT_ROOTS": str(tmp_path / "inputs"),
        "VAR_DIR": str(tmp_path / "var"),
        "SYNC_WAIT_SECONDS": "0",
        "LOG_LEVEL": "ERROR",
        "ALLOWED_HOSTS": "testserver",
    }
    done = subprocess.run(
        [sys.executable, "-c", REQUESTS, json.dumps(HEAVY)],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])

    assert report["answers"] == {
        "model_training": 200, "audio_clone clone": 202, "audio_clone generate": 202,
        "audio_clone gpt-sovits": 503,  # no GPT_SOVITS_URL here: refused, after loading the engine class
        "api/engines": 200,
    }
    assert report["loaded"] == []
