"""False-positive filters: every `is_*(secret, line="", path="") -> bool` function defined here is used.

A filter answers "is this candidate certainly not a leaked secret?". It sees the candidate, the
line around it and the file path, and must never raise or keep what it saw.
"""

# Discovery order, which is also the order filters are asked in: the cheap and most often right first.
# Modules not listed here come after, in name order.
ORDER = ("references", "defaults", "public", "examples")
