"""CrossGuard entry point: `pulumi preview --policy-pack policies`, `pulumi policy analyze`."""

from pulumi_policy import EnforcementLevel, PolicyPack

from ssot.crossguard import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=policies(), enforcement_level=EnforcementLevel.ADVISORY)
