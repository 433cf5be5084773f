"""Conformance function `fail`: always reports a function error (spec/compute.md, C-FN-1)."""


def handler(event, context):
    raise RuntimeError("conformance failure requested")
