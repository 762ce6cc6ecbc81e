"""The README's install command gives a user everything the README shows: in a fresh virtualenv,
`pip install .` (dependencies from the package index), the installed `respserver` script serves,
and the README's storage example, taken from the README itself, runs against it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import redis

from tests.conftest import free_port, wait_for_ping

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def readme_storage_example() -> str:
    """The first ```python block of the README's "Storage adapter" section."""
    text = README.read_text()
    section = re.search(r"^## Storage adapter\n(.*?)(?=^## )", text, re.M | re.S)
    assert section, "README.md has no '## Storage adapter' section"
    block = re.search(r"^```python\n(.*?)^```$", section.group(1), re.M | re.S)
    assert block, "the 'Storage adapter' section has no ```python block"
    return block.group(1)


def run(args: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)


def test_pip_install_gives_a_server_and_a_working_storage_example(tmp_path: Path) -> None:
    example = readme_storage_example()
    assert example.count("port=6379") == 1, example  # the one port the test redirects
    env_dir = tmp_path / "venv"
    done = run([sys.executable, "-m", "venv", str(env_dir)], timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    python, respserver = env_dir / "bin" / "python", env_dir / "bin" / "respserver"
    # Only the venv: nothing of the checkout or of the suite's interpreter leaks in.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(PATH=f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}", VIRTUAL_ENV=str(env_dir))
    # setuptools builds in the source tree: its build/ and egg-info go to tmp_path instead, so
    # nothing stale from an earlier run is packaged and the checkout is left as it was.
    (tmp_path / "build.cfg").write_text(
        f"[build]\nbuild_base = {tmp_path / 'build'}\n[egg_info]\negg_base = {tmp_path}\n"
    )
    env["DIST_EXTRA_CONFIG"] = str(tmp_path / "build.cfg")
    # The README's `pip install .`, run as a user runs it: a failure to reach the index fails.
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)]
    done = run(pip, timeout=600, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr

    done = run(
        [str(python), "-c", "import respserver.storage as s; print(s.__file__)"],
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(str(env_dir)), done.stdout  # the venv's copy, not the checkout

    port = free_port()
    log = tmp_path / "respserver.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(respserver), "--port", str(port), "--bind", "127.0.0.1"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            wait_for_ping(port, timeout=30)
        except TimeoutError:
            raise AssertionError(f"respserver did not answer:\n{log.read_text()}") from None
        script = tmp_path / "storage_example.py"
        script.write_text(example.replace("port=6379", f"port={port}"))
        done = run([str(python), str(script)], timeout=60, cwd=tmp_path, env=env)
        assert done.returncode == 0, f"{example}\n{done.stdout}{done.stderr}"
        # What the example leaves: it ran its commands on this server (QUERY, not the SCAN
        # fallback) and its last line deleted the record it put.
        with redis.Redis(host="127.0.0.1", port=port, socket_timeout=10) as r:
            calls = {
                name.removeprefix("cmdstat_"): stats["calls"]
                for name, stats in r.info("commandstats").items()
            }
            assert calls.get("hset", 0) >= 1 and calls.get("hgetall", 0) >= 1, calls
            assert calls.get("query", 0) >= 1 and calls.get("del", 0) >= 2, calls
            assert r.exists("instance:i1") == 0
            assert r.dbsize() == 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
