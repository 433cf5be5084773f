"""Conformance function `sleep`: {"ms": N} -> sleeps N ms -> {"slept_ms": N} (C-FN-1)."""

import time


def handler(event, context):
    ms = event.get("ms") if isinstance(event, dict) else None
    if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0:
        raise ValueError('sleep expects {"ms": N} with N a non-negative integer')
    time.sleep(ms / 1000.0)
    return {"slept_ms": ms}
