"""No Docker daemon runs here, so the image is checked the next best way: the Dockerfile's own
COPY/RUN steps run in a fresh virtualenv whose server must answer PING. (hadolint's lint of the
Dockerfile: tests/unit/test_dockerfile.py.)"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import venv
from pathlib import Path

from tests.conftest import free_port, wait_for_ping

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    steps = []
    for line in DOCKERFILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            steps.append((word.upper(), rest.strip()))
    return steps


def test_image_steps_install_a_server_that_answers(tmp_path):
    steps = instructions()
    assert ("EXPOSE", "6379") in steps
    app = tmp_path / "app"
    app.mkdir()
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    env = dict(os.environ, PATH=f"{env_dir / 'bin'}:{os.environ['PATH']}", VIRTUAL_ENV=str(env_dir))
    env.pop("PYTHONPATH", None)
    for word, rest in steps:
        if word == "COPY":
            *sources, dest = shlex.split(rest)
            target = app / dest if dest not in ("./", ".") else app
            for source in sources:
                path = ROOT / source
                if path.is_dir():
                    shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(path, app)
        elif word == "RUN":
            subprocess.run(rest, shell=True, cwd=app, env=env, check=True, timeout=600)
    cmd = json.loads(dict(steps)["CMD"])
    assert cmd[cmd.index("--bind") + 1] == "0.0.0.0"
    assert cmd[cmd.index("--protected-mode") + 1] == "no"  # clients come from the bridge
    # Same command, but on loopback and a free port: tests talk to 127.0.0.1 only.
    port = free_port()
    cmd[cmd.index("--bind") + 1] = "127.0.0.1"
    cmd[cmd.index("--port") + 1] = str(port)
    server = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_for_ping(port, timeout=20)
        installed = subprocess.run(
            [
                str(env_dir / "bin" / "python"),
                "-c",
                "import respserver; print(respserver.__file__)",
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=True,
        )
        assert str(env_dir) in installed.stdout  # the venv's copy, not the checkout's
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert sys.executable  # the suite's own interpreter is untouched
