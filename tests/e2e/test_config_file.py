"""``respserver respserver.conf [--name value ...]``: a redis.conf-style file, then the command
line, later directives winning, as redis-server reads them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "respserver", *args],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def ping(r: redis.Redis) -> bool:
    try:
        return r.ping()
    except redis.ConnectionError:
        return False


def test_config_file_then_command_line(tmp_path):
    file_port, port = free_port(), free_port()
    conf = tmp_path / "respserver.conf"
    conf.write_text(
        "# respserver test configuration\n"
        f"port {file_port}\n"
        "bind 127.0.0.1\n"
        "\n"
        "save 900 1\n"
        "save 300 10\n"
        'requirepass "s3 cret"\n'
        "appendfsync always\n"
        f"dir {tmp_path}\n"
        "client-output-buffer-limit normal 1mb 512kb 10\n"
    )
    proc = start(str(conf), "--port", str(port), "--appendfsync", "no")  # the line wins
    try:
        r = redis.Redis(port=port, password="s3 cret", decode_responses=True)
        deadline = time.monotonic() + 20
        while not ping(r):
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        assert r.config_get("save") == {"save": "900 1 300 10"}
        assert r.config_get("appendfsync") == {"appendfsync": "no"}
        assert r.config_get("dir") == {"dir": str(tmp_path)}
        limits = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
        assert limits.startswith("normal 1048576 524288 10 slave 268435456")
        r.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_bad_config_files_stop_the_start(tmp_path):
    cases = {"nosuch 1\n": "Bad directive", "port\n": "Bad directive", 'requirepass "x\n': "quotes",
             "appendfsync sometimes\n": "must be one of the following"}  # fmt: skip
    for text, reason in cases.items():
        conf = tmp_path / "bad.conf"
        conf.write_text("# fine so far\n" + text)
        proc = start(str(conf), "--port", str(free_port()))
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 1, text
        assert reason in err, (text, err)
    missing = start(str(tmp_path / "missing.conf"))
    _, err = missing.communicate(timeout=30)
    assert missing.returncode == 1 and "No such file" in err


def _wait_for(r: redis.Redis) -> None:
    deadline = time.monotonic() + 20
    while not ping(r):
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)


def test_user_lines_declare_acl_users(tmp_path):
    port = free_port()
    conf = tmp_path / "users.conf"
    conf.write_text(
        f"port {port}\n"
        f"dir {tmp_path}\n"
        "user default on >adminpw ~* &* +@all\n"
        "user app on >apppw ~app:* +@all -@dangerous\n"
        'user reader on nopass %R~* "(+get ~x)" +@read\n'
    )
    proc = start(str(conf))
    try:
        admin = redis.Redis(port=port, password="adminpw", decode_responses=True)
        _wait_for(admin)
        assert admin.acl_users() == ["app", "default", "reader"]
        app = redis.Redis(port=port, username="app", password="apppw")
        assert app.set("app:1", "v")
        with pytest.raises(redis.exceptions.NoPermissionError):
            app.set("other", "v")
        with pytest.raises(redis.exceptions.NoPermissionError):
            app.flushall()
        reader = redis.Redis(port=port, username="reader", password="any")
        assert reader.get("app:1") == b"v"
        with pytest.raises(redis.exceptions.NoPermissionError):
            reader.set("app:2", "v")
        for client in (admin, app, reader):
            client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_user_lines_refused_as_redis_refuses_them(tmp_path):
    cases = {
        "user alice on +nosuch\n": "Error loading ACL rule '+nosuch' for the user named 'alice'",
        "user alice on foo\n": "Syntax error",
        f"aclfile {tmp_path / 'users.acl'}\nuser alice on\n": "not both",
    }
    for text, reason in cases.items():
        conf = tmp_path / "bad.conf"
        conf.write_text(f"dir {tmp_path}\n" + text)
        done = subprocess.run(
            [sys.executable, "-m", "respserver", str(conf), "--port", str(free_port())],
            cwd=ROOT, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert done.returncode == 1, text
        assert reason in done.stdout + done.stderr, (text, done.stdout, done.stderr)
