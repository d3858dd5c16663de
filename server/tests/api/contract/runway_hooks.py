"""What the API's document cannot say in JSON Schema, told to Schemathesis.

Two rules reach across more than one value, and JSON Schema has no words for them:

- A stage result's `finished_at` may not come before its `started_at` (the server answers 422
  naming `finished_at`). Bodies breaking it are left out of the generated data.
- An `Idempotency-Key` used once names that request for good: the same key with another body is
  refused with 422, as the IETF Idempotency-Key draft says. The tester draws keys from a small
  pool, so each call's key is made its own by a suffix.

So every call the tester believes valid is one the server must take.
"""

import itertools
from datetime import datetime

import schemathesis


def _moment(value):
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        return None


@schemathesis.hook
def filter_body(ctx, body):
    if not isinstance(body, dict):
        return True
    started, finished = _moment(body.get("started_at")), _moment(body.get("finished_at"))
    if started is None or finished is None:
        return True
    try:
        return finished >= started
    except TypeError:
        return True


_calls = itertools.count()


@schemathesis.hook
def before_call(ctx, case, kwargs):
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and key:
        case.headers["Idempotency-Key"] = f"{key[:180]}-{next(_calls)}"
