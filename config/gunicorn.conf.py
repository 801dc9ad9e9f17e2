"""gunicorn's settings for the production image (`gunicorn -c config/gunicorn.conf.py`).

The access log names the path but never the query string: filters can carry search terms,
and no personal data may reach the logs (docs/security.md)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
accesslog = "-"
# %(U)s is the path without the query string; %(r)s (the request line) would include it.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
