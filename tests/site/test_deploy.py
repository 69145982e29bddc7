"""
deploy/ as a clinic installs it: the nginx site is valid for Debian's nginx,
the systemd units verify, and every timer runs a command that exists.
"""

import re
import shutil
import subprocess

from django.core.management import get_commands

from scripts.live_server import DEPLOY, ROOT, nginx_binary, render
from tests.support.tools import require

SYSTEMD = DEPLOY / "systemd"


BACKUP_TIMER = "clinic-backup.timer"


def timer_unit(timer):
    [unit] = re.findall(r"^Unit=(\S+)$", timer.read_text(), flags=re.MULTILINE)
    return unit


def timer_jobs():
    """{timer file name: the management command its clinic-job@ unit runs}, but the backup's."""
    jobs = {}
    for timer in sorted(SYSTEMD.glob("*.timer")):
        if timer.name == BACKUP_TIMER:
            continue
        unit = timer_unit(timer)
        match = re.fullmatch(r"clinic-job@(\w+)\.service", unit)
        assert match, f"{timer.name} starts {unit}, not a clinic-job@ unit"
        jobs[timer.name] = match[1]
    return jobs


def test_every_timer_runs_a_management_command_that_exists():
    commands = get_commands()
    jobs = timer_jobs()

    assert set(jobs.values()) == {
        "send_outbox",
        "send_reminders",
        "sweep_waitlist",
        "anonymise_bookings",
        "prune_db_task_results",
        "clearsessions",
    }
    for timer, command in jobs.items():
        assert command in commands, f"{timer}: no management command {command}"


def test_the_backup_timer_runs_the_backup_script_nightly():
    service = SYSTEMD / timer_unit(SYSTEMD / BACKUP_TIMER)
    [command] = re.findall(r"^ExecStart=(.+)$", service.read_text(), flags=re.MULTILINE)
    python, script, action = command.split()

    assert python == "/srv/clinic/app/.venv/bin/python"
    assert (ROOT / script).is_file() and action == "backup"
    assert "OnCalendar=*-*-* 03:15:00" in (SYSTEMD / BACKUP_TIMER).read_text()
    # It writes only where the backups go.
    assert "ReadWritePaths=/var/backups/clinic" in service.read_text()


def test_systemd_units_verify(tmp_path):
    """systemd-analyze verify, with this checkout's virtualenv in place of /srv/clinic's."""
    require(shutil.which("systemd-analyze") is not None, "systemd-analyze")
    for unit in SYSTEMD.iterdir():
        text = unit.read_text().replace("/srv/clinic/app/.venv/bin/", f"{ROOT}/.venv/bin/")
        (tmp_path / unit.name).write_text(text)
    units = [str(path) for path in sorted(tmp_path.iterdir()) if "@." not in path.name]
    units.append(str(tmp_path / "clinic-job@send_outbox.service"))
    (tmp_path / "clinic-job@send_outbox.service").symlink_to(tmp_path / "clinic-job@.service")

    result = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60
    )

    # It may note the machine's own units; it must say nothing about ours.
    about_ours = [line for line in result.stderr.splitlines() if "clinic" in line]
    assert about_ours == [], result.stderr


def test_the_production_site_is_valid_for_debians_nginx(tmp_path):
    """deploy/nginx/clinic.conf, with a throwaway certificate in place of the clinic's."""
    require(nginx_binary() is not None, "nginx (make nginx)")
    require(shutil.which("openssl") is not None, "openssl")
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=clinic.example", "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )  # fmt: skip
    site = (DEPLOY / "nginx" / "clinic.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/clinic.example/fullchain.pem", str(certificate))
    site = site.replace("/etc/letsencrypt/live/clinic.example/privkey.pem", str(key))
    site = site.replace(
        "/etc/nginx/snippets/clinic-app.conf", str(DEPLOY / "nginx" / "clinic-app.conf")
    )
    (tmp_path / "clinic.conf").write_text(site)
    # Debian's nginx.conf, in short: the site is included in its http block.
    main = """
        pid @PREFIX@/nginx.pid;
        error_log stderr;
        events {}
        http {
            include /etc/nginx/mime.types;
            client_body_temp_path @PREFIX@/body;
            proxy_temp_path @PREFIX@/proxy;
            include @PREFIX@/clinic.conf;
        }
    """
    (tmp_path / "nginx.conf").write_text(render(main, PREFIX=tmp_path))

    result = subprocess.run(
        [nginx_binary(), "-t", "-p", f"{tmp_path}/", "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
