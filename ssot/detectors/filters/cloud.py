"""Cloud resource names: an IAM policy's `arn:aws:secretsmanager:*:*:secret:acme/*` names where
secrets live, and the `secret:` inside it is part of the resource type, not an assignment."""

from __future__ import annotations

import re

# An ARN token (partition aws, aws-cn, aws-us-gov): arn:<partition>:<service>:<region>:<account>:<resource>.
_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:[a-z0-9-]+:[a-z0-9-*]*:(?:\d{12}|\*)?:[^\s\"'`,]+")


def is_cloud_resource_name(secret: str, line: str = "", path: str = "") -> bool:
    """The candidate lies inside an ARN on its line (or is one)."""
    if _ARN.fullmatch(secret):
        return True
    if not line or "arn:" not in line:
        return False
    at = line.find(secret)
    if at < 0:
        return False
    return any(m.start() <= at and at + len(secret) <= m.end() for m in _ARN.finditer(line))
