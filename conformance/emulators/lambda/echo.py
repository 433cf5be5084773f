"""Conformance function `echo`: returns its payload unchanged (spec/compute.md, C-FN-1)."""


def handler(event, context):
    return event
