"""The platform of stacks/Pulumi.<stack>.yaml, declared by ssot's components."""

from ssot.program import main

main()
