"""Load figures for the read endpoints: latency percentiles and requests/second under wrk.

Runs gunicorn on loopback against a scratch database filled with history rows, then drives
/api/status, /api/history/<type>, /api/cloned-audios and /api/tasks/<id> with wrk
(`apt-get install wrk`) at 50 concurrent connections, twice: back to back (each connection sends
its next request the moment an answer arrives: the server's saturation, where latency is only
concurrency / throughput) and as clients that wait about --think-ms between requests (default 250
and 1000 ms, each pause drawn from half to one and a half times that; the pages poll a running task
every 1000 ms and the status page every 3 s). Run by hand:

    .venv/bin/python bench/bench_api_load.py --rows 5000
    .venv/bin/python bench/bench_api_load.py --rows 100000 --database-url postgres://…/avatar_bench

Target (issue 8): p99 < 50 ms, no errors.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]

FILL = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from monitoring.models import HistoryRecord, Task
from voices.models import Speaker
user = User.objects.create_user("bench")
rows, batch = {rows}, 5000
for start in range(0, rows, batch):
    size = min(batch, rows - start)
    tasks = Task.objects.bulk_create([
        Task(id=f"gen_bench_{{start + i}}", kind="video_generation", status="succeeded", progress=100,
             queue="GPU0", handler="x", owner=user, result={{"video_path": "/video/x.mp4"}})
        for i in range(size)])
    HistoryRecord.objects.bulk_create([
        HistoryRecord(type="video_generation", status="completed", parameters={{"target_text": "hello"}},
                      result={{"video_path": "/video/x.mp4"}}, task=task, owner=user)
        for task in tasks])
# Profiles as the builtin engine writes them: a 256-number embedding and envelope statistics.
profile = {{"embedding": [0.0625] * 256, "envelope": {{"coded_mean": [0.5] * 40, "coded_std": [0.25] * 40}},
           "f0": {{"log_mean": 5.1, "log_std": 0.2, "mean_hz": 164.0}}, "prompt_text": "hello"}}
Speaker.objects.bulk_create([Speaker(id=f"speaker_{{i}}", name=f"Speaker {{i}}", engine="builtin",
                                     status="ready", owner=user, profile=profile) for i in range(50)])
print(Token.objects.create(user=user).key)
"""

LUA = """
wrk.headers["Authorization"] = "Token {token}"
-- Each pause is drawn from think/2 … 3·think/2, so the clients drift apart instead of all asking
-- at the same instant (as people's browsers do); 0 means back to back.
function delay()
    if {think_ms} == 0 then return 0 end
    return math.random(math.floor({think_ms} / 2), math.floor({think_ms} * 3 / 2))
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, script: Path, connections: int, seconds: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout
    percentiles = {p: _ms(v) for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": percentiles.get("50"), "p90": percentiles.get("90"), "p99": percentiles.get("99"),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "none",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16, help="per web worker, as runplatform starts them")
    parser.add_argument("--think-ms", type=int, nargs="*", default=[250, 1000],
                        help="pauses between a client's requests to measure (the pages poll a task every 1000 ms)")
    parser.add_argument("--database-url", default="", help="default: a scratch SQLite file")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

    scratch = Path(tempfile.mkdtemp(prefix="bench_load_"))
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url or f"sqlite:///{scratch / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(scratch / "media"),
        "VAR_DIR": str(scratch / "var"),
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
    }
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True, capture_output=True)
    filled = subprocess.run([*manage, "shell", "-c", FILL.format(rows=args.rows)], env=env, check=True,
                            capture_output=True, text=True)
    token = filled.stdout.strip().splitlines()[-1]
    scripts = {}
    for think_ms in (0, *args.think_ms):
        scripts[think_ms] = scratch / f"clients_{think_ms}.lua"
        scripts[think_ms].write_text(LUA.format(token=token, think_ms=think_ms))

    port = _free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "avatar_site.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.web_workers), "--threads", str(args.threads), "--log-level", "warning"],
        cwd=BASE_DIR, env=env,
    )
    try:
        time.sleep(3)
        endpoints = ["/api/status", "/api/history/video_generation", "/api/cloned-audios",
                     f"/api/tasks/gen_bench_{args.rows // 2}"]
        print(f"{args.rows} history rows, {args.connections} connections, {args.seconds} s each, "
              f"gunicorn {args.web_workers} workers × {args.threads} threads, database {env['DATABASE_URL'].split(':')[0]}")
        for think_ms, script in scripts.items():
            print(f"\nclients pausing {think_ms} ms between requests" if think_ms else "\nback to back")
            print(f"{'endpoint':40} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'non-2xx':>8}  socket errors")
            for path in endpoints:
                figures = run_wrk(f"http://127.0.0.1:{port}{path}", script, args.connections, args.seconds)
                print(f"{path:40} {figures['rps']:8.0f} {figures['p50']:8.1f} {figures['p90']:8.1f} "
                      f"{figures['p99']:8.1f} {figures['errors']:8d}  {figures['socket_errors']}")
    finally:
        web.terminate()
        web.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
