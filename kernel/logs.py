"""Logs: one JSON object per line (python-json-logger), each carrying the correlation id of
the work in hand (kernel/correlation.py), so one request can be followed through the gateway,
the relay and every consumer.

    {"time": "...", "level": "INFO", "logger": "kernel.bus.consumer", "message": "applied ...",
     "correlation_id": "4f0c...", "causation_id": "9a1e..."}

`configure(settings)` is called once by each `muni` command; tests and libraries never call it.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from pythonjsonlogger.json import JsonFormatter

from kernel.correlation import CAUSATION, CORRELATION

if TYPE_CHECKING:
    from kernel.config import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"
JSON_FIELDS = "{asctime}{levelname}{name}{message}"
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


class CorrelationFilter(logging.Filter):
    """Adds `correlation_id` and `causation_id` to every record (None outside any request).

    A filter on the handler, not on a logger: records of every library's loggers get them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        correlation, causation = CORRELATION.get(), CAUSATION.get()
        record.correlation_id = str(correlation) if correlation else None
        record.causation_id = str(causation) if causation else None
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(JSON_FIELDS, style="{", rename_fields=RENAMED)


def handler(stream: object = None, *, json: bool = True) -> logging.Handler:
    """A stream handler writing JSON lines (or text) with the correlation ids."""
    out = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    out.addFilter(CorrelationFilter())
    out.setFormatter(json_formatter() if json else logging.Formatter(TEXT_FORMAT))
    return out


def configure(settings: Settings) -> None:
    """Send every log record to stderr in the configured format, at the configured level."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(json=settings.log_format == "json"))
    root.setLevel(settings.log_level)
    # uvicorn's access log repeats what /metrics counts; keep its errors.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
