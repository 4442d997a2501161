"""One decoder for untrusted JSON: bounded size and nesting depth, one error type.

Every place that parses JSON it did not write itself (server bodies, tool-call arguments, model
replies, JSON answers) goes through :func:`loads_untrusted`. A hostile document can make the
standard library recurse until ``RecursionError`` (a 200 KB ``[[[[...]]]]`` does) or make later
code that walks the value recurse; here any such input becomes :class:`UntrustedJSONError`, a
``ValueError`` with a message fit to show the sender. orjson is used when installed (it refuses
depths beyond 1024 on its own); what it refuses but the standard library accepts (lone
surrogates, NaN, integers beyond 64 bits) is parsed by the standard library.
"""

from __future__ import annotations

import json
from typing import Any

try:  # optional speed-up (the server extra)
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is optional
    _orjson = None

#: Deepest nesting of arrays and objects accepted (OpenAI tool arguments rarely pass 5).
MAX_DEPTH = 64
#: Largest document accepted by default, in bytes (characters for ``str`` input).
MAX_BYTES = 32 * 1024 * 1024


class UntrustedJSONError(ValueError):
    """Untrusted JSON was malformed, too large or too deeply nested."""


def loads_untrusted(
    data: bytes | bytearray | str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    what: str = "JSON",
) -> Any:
    """Parse ``data`` as JSON; raise :class:`UntrustedJSONError` when it breaks a bound or the syntax.

    ``what`` names the document in the message (e.g. ``"the request body"``).
    """
    if len(data) > max_bytes:
        raise UntrustedJSONError(f"{what} is larger than {max_bytes} bytes")
    value = _parse(data, what)
    if exceeds_depth(value, max_depth):
        raise UntrustedJSONError(f"{what} is nested deeper than {max_depth} levels")
    return value


def _parse(data: bytes | bytearray | str, what: str) -> Any:
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError as exc:
            if "recursion" in str(exc).lower():
                raise UntrustedJSONError(f"{what} is nested too deeply") from None
            # else: lone surrogates, NaN and big integers are valid for the standard library
    try:
        return json.loads(data)
    except RecursionError:
        raise UntrustedJSONError(f"{what} is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise UntrustedJSONError(f"{what} is not valid JSON ({exc.msg} at char {exc.pos})") from None
    except (ValueError, UnicodeDecodeError, TypeError) as exc:
        raise UntrustedJSONError(f"{what} is not valid JSON ({exc})") from None


def exceeds_depth(value: Any, max_depth: int) -> bool:
    """True when ``value`` nests lists/dicts deeper than ``max_depth`` (iterative: never recurses)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if depth >= max_depth:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list, tuple)))
    return False
