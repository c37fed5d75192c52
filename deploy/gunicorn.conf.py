"""gunicorn for Jiuzhu: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app`` (systemd unit, container).

Every value here is a default: ``GUNICORN_CMD_ARGS`` (e.g. ``--bind 0.0.0.0:8000 --threads 8``) and
the command line override it, ``WEB_CONCURRENCY`` sets the number of workers.

Sizing. A request is mostly waiting on PostgreSQL, sometimes busy in Python (a PDF, a password
hash). ``gthread`` workers give each process a few threads for the waiting; one process per core
(plus one) lets the busy ones run in parallel despite the GIL. Each process keeps its own database
pool, so connections ≈ workers × (threads + 1): 2 cores → 3 × 5 = 15, 8 cores → 9 × 5 = 45, well
under PostgreSQL's default ``max_connections`` of 100 with the RQ workers and cron beside them.
"""

import os
import tempfile

try:
    _cores = len(os.sched_getaffinity(0))  # the cores this process may use (a container's limit)
except AttributeError:  # not Linux
    _cores = os.cpu_count() or 1

bind = "127.0.0.1:8000"  # behind nginx on the same host; a container binds 0.0.0.0 through GUNICORN_CMD_ARGS
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or _cores + 1)
threads = 4

# A request may render a long case file as PDF; nginx gives up at 65 s (proxy_read_timeout).
timeout = 60
graceful_timeout = 30  # a restart lets running requests finish

# Every connection is closed after its response, and a worker takes at most twice its threads of
# connections: each request then goes to a worker with room. A ``gthread`` worker accepts every
# connection it can and keeps a kept-alive one to itself, so users who came in together stayed with
# one worker, which served most of the requests on one core while the others idled (measured with
# ``bench/http_load.py``: one worker 27.6 s of CPU in 30 s, the other two 3.6 and 3.8 s). Behind
# nginx, on the same host, a new connection costs next to nothing; nginx keeps the browsers'.
keepalive = 0
worker_connections = 2 * threads

# A worker is replaced after this many requests (with jitter, not all at once): memory that a
# library holds on to (fonts, PDF layout) is given back.
max_requests = 2000
max_requests_jitter = 200

# Not preloaded: each worker builds the app after the fork, so no database connection, Redis
# socket or metrics file is ever shared between processes, and `systemctl reload` (HUP) starts
# workers on new code. The price is a second or two per worker at start and no copy-on-write
# sharing of the app's memory.
preload_app = False

# Which X-Forwarded-* headers count is the application's decision alone (JIUZHU_TRUSTED_PROXIES,
# werkzeug's ProxyFix): gunicorn trusts none.
forwarded_allow_ips = ""

# Logs to stderr (journald, the container runtime), JSON like the application's (JIUZHU_LOG_FORMAT):
# access lines carry the request id, never the query string or the referrer.
accesslog = "-"
errorlog = "-"
loglevel = "info"
logger_class = "jiuzhu.ops.gunicorn.JiuzhuLogger"

# gunicornc's control socket is not used (and ProtectHome leaves it nowhere to go).
control_socket_disable = True

# Metrics from every worker are added up from files in one directory (prometheus-client's
# multiprocess mode). It must be known before a worker imports the client; systemd and the
# container set it, otherwise a fresh temporary directory is used.
#: the directory made here when none was given: it goes when the server stops (one given is the service's)
_own_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _own_metrics_dir = tempfile.mkdtemp(prefix="jiuzhu-metrics-")


def on_starting(server):
    """Before the first worker: forget the metric files of processes that no longer run."""
    from jiuzhu.ops.metrics import remove_dead_process_files

    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(path, exist_ok=True)
    removed = remove_dead_process_files(path)
    if removed:
        server.log.info("removed %d metric files of processes that no longer run", removed)


def post_worker_init(worker):
    """The app is built: its objects (modules, mappers, templates) are moved out of the garbage
    collector's way, so the full collection after each PDF (``jiuzhu.documents.give_back_memory``)
    looks only at what requests made since."""
    import gc

    gc.collect()
    gc.freeze()


def child_exit(server, worker):
    from jiuzhu.ops.metrics import mark_process_dead

    mark_process_dead(worker.pid)


def on_exit(server):
    """The server stops: the metrics directory made above (none was given) goes with it."""
    if _own_metrics_dir:
        import shutil

        shutil.rmtree(_own_metrics_dir, ignore_errors=True)
