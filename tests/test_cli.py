"""The sandbox and validate commands as a user runs them: exit codes, one-line errors, no leftovers."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import sys
import time
from pathlib import Path

import pytest

from redisinfra.sandbox import running_in

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "redisinfra.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def leftovers(marker: str) -> list[str]:
    """Live processes working under `marker` (our temp dir): Redis rewrites its command line, not its cwd."""
    return [pid for pid in filter(str.isdigit, os.listdir("/proc")) if running_in(int(pid), marker)]


@pytest.fixture
def tmp_path() -> Path:
    """A temp dir other users can traverse, so the sandbox's nodes run unprivileged (as `nobody` under root)."""
    path = Path(tempfile.mkdtemp(prefix="redis-infra-test-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_validate_repository_stacks() -> None:
    result = run("validate", "dev", "prod", "examples/cluster.yaml")
    assert result.returncode == 0, result.stderr
    assert "Pulumi.prod.yaml: ok (elasticache, cluster" in result.stdout


@pytest.mark.parametrize("broken, key", [
    ("  redis:topolgy: sentinel\n", "redis:topolgy: unknown key; did you mean 'topology'?"),
    ("  redis:sentinel:\n    quorum: 1\n", "redis:sentinel.quorum: 1 is not a majority of 3 Sentinels"),
])
def test_bad_stack_file_exits_2_with_one_line_and_starts_nothing(tmp_path: Path, broken: str, key: str) -> None:
    text = (ROOT / "Pulumi.dev.yaml").read_text().replace("  redis:topology: sentinel\n", "")
    text = text.replace("  redis:sentinel:\n    count: 3\n    quorum: 2\n", "  redis:sentinel:\n    count: 3\n")
    stack = tmp_path / "Pulumi.broken.yaml"
    stack.write_text(text + ("  redis:topology: sentinel\n" if "topolgy" not in broken else "") + broken)
    result = run("sandbox", str(stack), env={"TMPDIR": str(tmp_path)})
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and key in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not list(tmp_path.glob("redis-infra-sandbox-*"))


def test_bad_arguments_exit_2() -> None:
    result = run("sandbox", "--drill", "chaos")
    assert result.returncode == 2 and result.stderr.startswith("error: argument --drill") and result.stderr.count("\n") == 1
    result = run("sandbox", "no-such-stack")
    assert result.returncode == 2 and "Pulumi.no-such-stack.yaml: no such stack file" in result.stderr


@pytest.mark.redis
def test_sandbox_cluster_up_verified_and_torn_down(tmp_path: Path) -> None:
    result = run("sandbox", "examples/cluster.yaml", env={"TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up and healthy in" in result.stdout and '"topology": "cluster"' in result.stdout
    assert "torn down: 6 processes stopped" in result.stdout
    assert "********" in result.stdout  # the password is masked in what is printed
    assert not list(tmp_path.glob("redis-infra-sandbox-*")) and not leftovers(str(tmp_path))


@pytest.mark.redis
def test_keep_then_sandbox_down(tmp_path: Path) -> None:
    env = {"TMPDIR": str(tmp_path), "REDIS_INFRA_STATE": str(tmp_path / "state")}
    try:
        result = run("sandbox", "examples/standalone.yaml", "--keep", env=env)
        assert result.returncode == 0, result.stderr
        assert leftovers(str(tmp_path)), "KEEP=1 must leave the sandbox running"
        secret = tmp_path / "state" / "connection.json"
        assert oct(secret.stat().st_mode & 0o777) == "0o600"
        again = run("sandbox", "examples/standalone.yaml", "--keep", env=env)
        assert again.returncode == 2 and "make sandbox-down" in again.stderr
    finally:
        down = run("sandbox-down", env=env)
    assert down.returncode == 0 and "stopped 1 processes" in down.stdout, down.stdout + down.stderr
    assert not leftovers(str(tmp_path)) and not list(tmp_path.glob("redis-infra-sandbox-*"))


@pytest.mark.redis
@pytest.mark.parametrize("sig, moment", [(signal.SIGINT, "bring-up"), (signal.SIGTERM, "bring-up"),
                                         (signal.SIGTERM, "checks"), (signal.SIGINT, "teardown")])
def test_interrupt_leaves_nothing_behind(tmp_path: Path, sig: int, moment: str) -> None:
    process = subprocess.Popen([sys.executable, "-u", "-m", "redisinfra.cli", "sandbox", "examples/cluster.yaml"],
                               cwd=ROOT, env={**os.environ, "TMPDIR": str(tmp_path)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if moment == "bring-up":
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(leftovers(str(tmp_path))) < 6:
                time.sleep(0.05)
            assert len(leftovers(str(tmp_path))) == 6, "the sandbox never started its nodes"
        else:
            for line in process.stdout:  # the checks start right after this line
                if line.startswith("up and healthy"):
                    break
        process.send_signal(sig)
        if moment == "teardown":  # a second signal while tearing down must not cut the teardown short
            time.sleep(0.05)
            process.send_signal(sig)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, out + err
    assert "interrupted; tearing down" in err and "Traceback" not in err, err
    assert not leftovers(str(tmp_path)) and not list(tmp_path.glob("redis-infra-sandbox-*"))


def test_serverless_cannot_be_realised_locally(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.sls.yaml"
    stack.write_text("config:\n  redis:backend: elasticache\n  redis:topology: serverless\n  redis:security:\n"
                     "    auth:\n      mode: acl\n      users:\n        - name: app\n")
    result = run("sandbox", str(stack), env={"TMPDIR": str(tmp_path)})
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "redis:topology: 'serverless' is a managed service" in result.stderr
    assert not list(tmp_path.glob("redis-infra-sandbox-*"))


def test_missing_redis_binary_is_one_line(tmp_path: Path) -> None:
    # A PATH without redis-server: the user is told how to install it, nothing starts.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(sys.executable, bin_dir / "python3")
    for tool in ("bash", "id", "env"):
        if shutil.which(tool):
            os.symlink(shutil.which(tool), bin_dir / tool)
    result = run("sandbox", "examples/standalone.yaml", env={"PATH": str(bin_dir), "TMPDIR": str(tmp_path)})
    assert result.returncode == 1 and "redis-server is not installed" in result.stderr, result.stderr
    assert not list(tmp_path.glob("redis-infra-sandbox-*"))
