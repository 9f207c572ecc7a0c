"""The plugin's HTTP answers: what a route reads from a request and how it replies.

One plain ``text/plain`` line for every error (``HttpError``: 400 for a bad or
missing parameter, 404 for an unknown run, layer, matrix or step), JSON with
NaN and infinities as ``null``, the request's parameters (``required``,
``step_of``) and the page's static files from an allow-list.
"""

import functools
import json
import logging
import math
import re
from pathlib import Path

import numpy as np
from werkzeug import wrappers

from tensorboard import errors as tb_errors
from tensorboard.backend import http_util

logger = logging.getLogger("lstm_experiments.board.plugin")

CONTENT_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain",
    ".map": "application/json",
}
_INTEGER = re.compile(r"-?[0-9]+")
MAX_STEP = 2**63 - 1  # TensorBoard's steps are int64


class HttpError(Exception):
    """An answer other than 200: its status and its one-line message."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def shown(value: str) -> str:
    """A parameter's value for a one-line message: as given, unless it holds control characters."""
    text = str(value)
    if text.isprintable():
        return text
    return text.encode("unicode_escape").decode("ascii")


def bad_request(message: str) -> HttpError:
    return HttpError(400, message)


def not_found(message: str) -> HttpError:
    return HttpError(404, message)


def _jsonable(value):
    """``value`` with numpy arrays as nested lists and every non-finite float as None."""
    if isinstance(value, np.ndarray):
        array = value.astype(np.float64)
        finite = np.isfinite(array)
        if finite.all():
            return array.tolist()
        return np.where(finite, array, None).tolist()
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def respond_json(request, body):
    text = json.dumps(_jsonable(body), allow_nan=False, separators=(",", ":"))
    return http_util.Respond(request, text, "application/json")


def _plain(request, code: int, message: str):
    line = " ".join(message.splitlines()) or "error"
    return http_util.Respond(request, line, "text/plain", code=code)


def route(handler):
    """A werkzeug handler that answers HttpError and TensorBoard's public errors as one plain line."""

    @functools.wraps(handler)
    def answer(self, request):
        try:
            return handler(self, request)
        except HttpError as error:
            return _plain(request, error.code, error.message)
        except tb_errors.PublicError as error:
            return _plain(request, error.http_code, str(error))
        except Exception as error:  # noqa: BLE001 - the client gets one line, the log the traceback
            logger.exception("lstm_gates: %s failed", request.path)
            return _plain(request, 500, f"internal error in {request.path}: {type(error).__name__}")

    return wrappers.Request.application(answer)


def required(request, name: str) -> str:
    value = request.args.get(name)
    if value is None or value == "":
        raise bad_request(f"{name} is missing: give ?{name}=...")
    return value


def step_of(request) -> int:
    value = required(request, "step")
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        raise bad_request(f"step={shown(value)} is not an integer")
    # Digits first, int() last: Python refuses int() of more than 4,300 digits (a ValueError).
    sign = "-" if text.startswith("-") else ""
    digits = text.lstrip("-").lstrip("0") or "0"
    if len(digits) > len(str(MAX_STEP)) or int(digits) > MAX_STEP:
        shown_digits = digits if len(digits) <= 24 else f"{digits[:12]}...{digits[-4:]} ({len(digits)} digits)"
        raise bad_request(f"step={sign}{shown_digits} is out of range (steps are 64-bit integers)")
    step = int(sign + digits)
    if step < 0:
        raise bad_request(f"step={step} is negative")
    return step


def static_files(folder: Path) -> dict[str, Path]:
    """The page's files: {path relative to ``folder`` (posix): file}; hidden files and caches left out."""
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        found[relative.as_posix()] = path
    return found


def datum_at(data, step: int, what: str):
    """The datum logged at ``step``; a 404 naming ``what`` and the kept steps if there is none."""
    for datum in data:
        if datum.step == step:
            return datum
    kept = ", ".join(str(d.step) for d in data)
    raise not_found(f"step={step} not found for {what} (kept steps: {kept or 'none'})")
