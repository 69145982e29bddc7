"""
gunicorn settings for production. gunicorn reads
this file from the working directory; GUNICORN_CMD_ARGS overrides any of it.
"""

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
