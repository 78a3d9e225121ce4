"""The classic cloud and SaaS credentials (the formats checkov's secret scan also knows)."""

from __future__ import annotations

import re

from ssot.detectors.base import Detector, char_classes, shannon_entropy


class AwsAccessKeyIdDetector(Detector):
    secret_type = "AWS access key ID"
    public_prefix = re.compile(r"A(?:KIA|SIA|BIA|CCA|3T)")
    # One pattern with a one-letter literal prefix scans faster than five keyword tests.
    regexes = (re.compile(r"(?P<secret>A(?<![A-Za-z0-9]A)(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])[A-Z0-9]{16})(?![A-Za-z0-9])"),)


class AwsSecretAccessKeyDetector(Detector):
    """40 base64 characters assigned to a key that names an AWS secret access key."""

    secret_type = "AWS secret access key"
    case_insensitive = True
    priority = 55
    keywords = ("secret",)
    regexes = tuple(
        re.compile(
            k + r"[a-z0-9_.-]{0,20}[\"']?[ \t]{0,5}(?:=>|=|:)[ \t]{0,5}[\"']?"
            r"(?P<secret>[a-z0-9/+]{40})(?![a-z0-9/+=])"
        )
        for k in (r"secret[_-]?access[_-]?key", "aws_secret")
    )

    def verify_shape(self, value: str) -> bool:
        return shannon_entropy(value) >= 3.8 and char_classes(value) >= 2


class GitHubTokenDetector(Detector):
    secret_type = "GitHub token"
    public_prefix = re.compile(r"gh[pousr]_|github_pat_")
    regexes = (
        re.compile(
            r"(?P<secret>g(?<![A-Za-z0-9_]g)"
            r"(?:h[pousr]_[A-Za-z0-9]{36}|ithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}))(?![A-Za-z0-9_])"
        ),
    )


class SlackTokenDetector(Detector):
    secret_type = "Slack token"
    public_prefix = re.compile(r"xox[abposre]-")
    keywords = ("xox",)
    regexes = (
        re.compile(r"(?P<secret>xox[abposre]-(?<![A-Za-z0-9_]xox[abposre]-)[0-9A-Za-z]{6,}-[0-9A-Za-z-]{8,250})"),
    )

    def verify_shape(self, value: str) -> bool:
        return any(c.isdigit() for c in value[5:])


class SlackWebhookDetector(Detector):
    secret_type = "Slack webhook URL"
    public_prefix = re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/")
    keywords = ("hooks.slack.com",)
    regexes = (
        re.compile(
            r"(?P<secret>https://hooks\.slack\.com/(?:services|workflows|triggers)/"
            r"[A-Za-z0-9_-]{6,}/[A-Za-z0-9_-]{6,}/[A-Za-z0-9_-]{16,})"
        ),
    )


class StripeSecretKeyDetector(Detector):
    secret_type = "Stripe live secret key"
    public_prefix = re.compile(r"[sr]k_live_")
    keywords = ("k_live_",)
    regexes = (
        # gated by the keyword, so the pattern need not start with a literal
        re.compile(r"(?<![A-Za-z0-9_])(?P<secret>[sr]k_live_[A-Za-z0-9]{24,247})(?![A-Za-z0-9_])"),
    )
