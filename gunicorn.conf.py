"""
gunicorn settings for production. gunicorn reads
this file from the working directory; GUNICORN_CMD_ARGS overrides any of it.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# The usual (2 × cores) + 1: requests mostly wait on PostgreSQL and Redis.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
wsgi_app = "clinic_site.wsgi:application"
timeout = 30
graceful_timeout = 30
keepalive = 5
# Restart workers now and then so a slow leak can never build up; the wide
# jitter keeps them from all restarting at once under even load, and
# preloading the app makes each restart cheap (the imports happen once).
max_requests = 2000
max_requests_jitter = 1000
preload_app = True
# Access logs stay off: a client's manage link carries a secret token in its
# path, and gunicorn cannot log a path without it. The app logs what it needs.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 27's control socket lives in the user's home; nothing here uses it,
# and the systemd unit (deploy/systemd/clinic-web.service) keeps home read-only.
control_socket_disable = True


# Django leaves much of its work to a process's first request (the URL
# configuration, the template engines, each template's compilation, the
# static files' manifest, phone-number metadata): clinic_site/warmup.py does
# it in the master, once, after preload_app has loaded the site and before
# any worker is forked, so every worker (and every one restarted after
# max_requests) starts warm. Without preload_app each worker warms itself
# before it takes a request. The warm-up uses neither the database nor the
# cache, and a step that fails is logged and left to happen lazily.
def when_ready(server):
    if server.cfg.preload_app:
        from clinic_site.warmup import warm_up

        warm_up()
        # What the master holds now never needs collecting: frozen, the
        # garbage collector leaves it alone in the workers, so their
        # collections neither scan it nor copy its memory pages.
        gc.collect()
        gc.freeze()


# Each worker then opens its own database and cache connections before it
# takes a request, giving up after 2 s (the first request connects then),
# and, with both there, serves itself a content page and the booking page,
# so its first visitor finds it as warm as the rest (clinic_site/warmup.py).
def post_worker_init(worker):
    from clinic_site import warmup

    if not worker.cfg.preload_app:
        warmup.warm_up()
    connected = warmup.connect()
    if all(connected.values()):
        warmup.first_requests(worker.wsgi)
