"""
The one way to run the site's own processes outside production: gunicorn,
the task worker and nginx in front, each on a free loopback port, started,
waited for, and stopped with everything they started. `make serve`
(scripts/serve.py), the benchmarks (bench/, the peer's gunicorn too), the
audit and screenshot scripts, and every test that runs real processes
(tests/support/local_site.py is the tests' site on it) use it, so what they run
is what a clinic deploys: gunicorn with gunicorn.conf.py, `manage.py db_worker`,
and nginx with deploy/nginx/clinic-app.conf.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
HOST = "127.0.0.1"
START_SECONDS = 30


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_open(port, host=HOST):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(condition, *, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds} s waiting for {what}")
        time.sleep(0.1)


def manage(env, *arguments, timeout=300):
    """Run a management command with `env`; its output, or an error showing its stderr."""
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(f"manage.py {arguments[0]} failed:\n{result.stderr}")
    return result.stdout


def standalone_environment(database, origin, *, secret):
    """
    The site on its own, as `make audit` and `make screenshots` serve it: the
    base settings with DEBUG off, a SQLite database of its own at `database`,
    no shared cache, mail kept in memory, `origin` its address.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ENV"}
    }
    return env | {
        "DJANGO_SETTINGS_MODULE": "clinic_site.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": secret,
        "ALLOWED_HOSTS": urlsplit(origin).hostname,
        "DATABASE_URL": f"sqlite:///{database}",
        # The seed's photographs beside the database, served by the app itself.
        "MEDIA_ROOT": str(Path(database).parent / "media"),
        "SITE_URL": origin,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }


class Service:
    """
    One long-running process, in a session of its own (stopping it stops
    whatever it started), writing its output to a log file.
    """

    name = "process"

    def __init__(self, command, *, env, log_path, cwd=ROOT):
        self.command = command
        self.env = env
        self.log_path = Path(log_path)
        self.cwd = cwd
        self.process = None

    def start(self):
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self._ready, seconds=START_SECONDS, what=f"{self.name} to start")
        return self

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError(
                f"{self.name} exited with status {self.process.returncode}:\n{self.log()}"
            )
        return self.ready()

    def ready(self):
        return True

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self):
        return self.process.pid

    def send(self, signum):
        """A signal to the main process only (gunicorn's arbiter, nginx's master)."""
        os.kill(self.process.pid, signum)

    def kill(self):
        """Down hard, as in a crash or an OOM kill: the process and all its children."""
        if self.running:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, *, timeout=15):
        """A normal stop (SIGTERM to the whole session), escalating to SIGKILL."""
        if self.running:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines=80):
        return "\n".join(
            [f"--- the end of {self.log_path.name} ---", *self.log().splitlines()[-lines:]]
        )


class Gunicorn(Service):
    """The app under gunicorn, configured by gunicorn.conf.py (and the environment)."""

    name = "gunicorn"

    def __init__(self, *, env, log_path, port=None, options=()):
        self.port = port or free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"{HOST}:{self.port}",
            *options,
        ]
        super().__init__(command, env=env, log_path=log_path)

    def ready(self):
        return port_open(self.port)

    @property
    def origin(self):
        return f"http://{HOST}:{self.port}"


class TaskWorker(Service):
    """`manage.py db_worker`, as the clinic-worker systemd unit runs it."""

    name = "db_worker"

    def __init__(self, *, env, log_path, interval="0.5"):
        command = [
            sys.executable,
            "manage.py",
            "db_worker",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            interval,
        ]
        super().__init__(command, env=env, log_path=log_path)

    def ready(self):
        return "Starting worker" in self.log()


def nginx_binary():
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if Path(path).exists()), None
    )


class Nginx(Service):
    """
    nginx in front of `upstream`, on a loopback port, with a folder of its
    own for its configuration, pid, logs and temporary files: never the
    machine's own nginx service. The configuration is deploy/nginx/serve.conf
    with its @NAMES@ filled in; it includes deploy/nginx/clinic-app.conf, the
    part production's site shares. `public` is the folder whose static/
    subfolder holds collectstatic's files.
    """

    name = "nginx"

    def __init__(self, *, upstream, public, folder, port=None):
        self.port = port or free_port()
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "nginx.conf"
        config.write_text(
            render(
                (DEPLOY / "nginx" / "serve.conf").read_text(),
                PREFIX=self.folder,
                DEPLOY=DEPLOY,
                LISTEN=f"{HOST}:{self.port}",
                UPSTREAM=upstream,
                PUBLIC=Path(public).resolve(),
                # As root, nginx's workers would switch to `nobody`, who may not
                # read a developer's checkout; elsewhere the directive is ignored.
                USER="root" if os.geteuid() == 0 else "nobody",
            )
        )
        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError("nginx is not installed (apt-get install nginx)")
        command = [binary, "-p", f"{self.folder}/", "-c", str(config), "-e", "stderr"]
        super().__init__(command, env=dict(os.environ), log_path=self.folder / "nginx.log")

    def ready(self):
        return port_open(self.port)

    @property
    def origin(self):
        return f"http://{HOST}:{self.port}"


def render(template, **values):
    """Fill in a template's @NAME@ placeholders; every one must be given."""
    for name, value in values.items():
        template = template.replace(f"@{name}@", str(value))
    code = "\n".join(line.split("#", 1)[0] for line in template.splitlines())
    left = re.findall(r"@[A-Z_]+@", code)
    if left:
        raise ValueError(f"placeholders left unfilled: {', '.join(sorted(set(left)))}")
    return template


# --- A client ------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict
    text: str
    seconds: float


class Visitor:
    """
    Enough of a browser for the tests and the serve script's checks: keeps
    its cookies by hand (the production cookies are Secure, and this talks
    plain HTTP on loopback), sends Origin and Referer with forms as a browser
    does, does not follow redirects.
    """

    def __init__(self, port, *, host=HOST, timeout=30):
        self.port = port
        self.host = host
        self.timeout = timeout
        self.cookies = {}

    def request(self, method, path, fields=None, headers=None):
        origin = f"http://{self.host}:{self.port}"
        headers = {"Host": f"{self.host}:{self.port}"} | (headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers.setdefault("Origin", origin)
            headers.setdefault("Referer", origin + path)
        began = time.monotonic()
        with closing(HTTPConnection(self.host, self.port, timeout=self.timeout)) as connection:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        seconds = time.monotonic() - began
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie, _, _ = value.partition(";")
                key, _, cookie_value = cookie.partition("=")
                self.cookies[key.strip()] = cookie_value
        return Reply(response.status, dict(response.getheaders()), text, seconds)

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def post(self, path, fields, headers=None):
        return self.request("POST", path, fields, headers=headers)
