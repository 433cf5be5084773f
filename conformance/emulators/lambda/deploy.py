#!/usr/bin/env python3
"""Deploys the conformance function set (echo, fail, sleep) to a Lambda endpoint.

Idempotent: creates each function `{FUNCTION_PREFIX}{name}` or replaces its code and
configuration, then waits until it is active. Needs botocore (ministack's own venv has
it: run this script with that venv's python).

Environment:
  LAMBDA_ENDPOINT   endpoint URL (default $STRATUS_LAMBDA_ENDPOINT, else http://127.0.0.1:4566)
  FUNCTION_PREFIX   name prefix (default "stratus-conf-")
  AWS_REGION        region (default us-east-1)
  AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY   credentials (default "testing")
"""

import io
import os
import sys
import time
import zipfile

try:
    import botocore.session
    from botocore.exceptions import ClientError
except ImportError:
    sys.exit(
        "deploy.py needs botocore: run it with the python of ministack's venv "
        "(pip install ministack pins botocore)"
    )

HERE = os.path.dirname(os.path.abspath(__file__))
FUNCTIONS = ("echo", "fail", "sleep")
RUNTIME = "python3.12"
TIMEOUT_SECONDS = 60
ROLE = "arn:aws:iam::000000000000:role/stratus-conformance"


def package(name):
    """A zip holding `{name}.py`, whose `handler` is the entry point."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(os.path.join(HERE, name + ".py"), name + ".py")
    return buf.getvalue()


def client():
    endpoint = os.environ.get("LAMBDA_ENDPOINT") or os.environ.get(
        "STRATUS_LAMBDA_ENDPOINT", "http://127.0.0.1:4566"
    )
    session = botocore.session.get_session()
    return session.create_client(
        "lambda",
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        endpoint_url=endpoint,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )


def wait_ready(lam, function_name, deadline_seconds=60):
    """Waits until the function is Active and its last update finished."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        config = lam.get_function_configuration(FunctionName=function_name)
        state = config.get("State", "Active")
        update = config.get("LastUpdateStatus", "Successful")
        if state == "Active" and update == "Successful":
            return
        if state == "Failed" or update == "Failed":
            sys.exit(f"{function_name}: state {state}, last update {update}")
        if time.monotonic() > deadline:
            sys.exit(f"{function_name}: not ready after {deadline_seconds}s ({state}/{update})")
        time.sleep(0.2)


def deploy(lam, prefix, name):
    function_name = prefix + name
    code = package(name)
    handler = name + ".handler"
    try:
        lam.get_function(FunctionName=function_name)
        exists = True
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        exists = False
    if exists:
        lam.update_function_code(FunctionName=function_name, ZipFile=code)
        wait_ready(lam, function_name)
        lam.update_function_configuration(
            FunctionName=function_name,
            Runtime=RUNTIME,
            Handler=handler,
            Timeout=TIMEOUT_SECONDS,
        )
        action = "updated"
    else:
        lam.create_function(
            FunctionName=function_name,
            Runtime=RUNTIME,
            Role=ROLE,
            Handler=handler,
            Code={"ZipFile": code},
            Timeout=TIMEOUT_SECONDS,
        )
        action = "created"
    wait_ready(lam, function_name)
    print(f"{action} {function_name}")


def main():
    prefix = os.environ.get("FUNCTION_PREFIX", "stratus-conf-")
    lam = client()
    for name in FUNCTIONS:
        deploy(lam, prefix, name)


if __name__ == "__main__":
    main()
