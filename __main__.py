"""Pulumi entry point: the stack's platform, declared from stacks/Pulumi.<stack>.yaml."""

from ssot.program import main

main()
