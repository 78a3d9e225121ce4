"""Anthropic API and Admin API keys."""

from __future__ import annotations

import re

from ssot.detectors.base import Detector


class AnthropicApiKeyDetector(Detector):
    secret_type = "Anthropic API key"
    gate = "sk-ant-"
    keywords = ("sk-ant-api03-",)
    public_prefix = re.compile(r"sk-ant-api03-")
    regexes = (
        re.compile(r"(?P<secret>sk-ant-api03-(?<![A-Za-z0-9_]sk-ant-api03-)[A-Za-z0-9_-]{80,120})(?![A-Za-z0-9_-])"),
    )


class AnthropicAdminKeyDetector(Detector):
    secret_type = "Anthropic admin key"
    gate = "sk-ant-"
    keywords = ("sk-ant-admin01-",)
    public_prefix = re.compile(r"sk-ant-admin01-")
    regexes = (
        re.compile(
            r"(?P<secret>sk-ant-admin01-(?<![A-Za-z0-9_]sk-ant-admin01-)[A-Za-z0-9_-]{80,120})(?![A-Za-z0-9_-])"
        ),
    )
