"""Calibration: 5,000 plain pulumi-postgresql resources under the stock mock runtime.

The reference point for bench_program.py on the same machine (the issue quotes about 16 s and
530 MB): stock `pulumi.runtime.Mocks` echoing inputs, default GC, source positions on.

    .venv/bin/python bench/bench_plain_mocks.py [N]
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import pulumi
import pulumi_postgresql as postgresql


class EchoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, None]:
        return {}, None


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    pulumi.runtime.set_mocks(EchoMocks(), project="plain", stack="bench", preview=True)

    @pulumi.runtime.test
    def program() -> pulumi.Output:
        roles = [postgresql.Role(f"r{i}", name=f"r{i}") for i in range(n // 5)]
        schemas = [postgresql.Schema(f"s{i}", name=f"s{i}") for i in range(n // 5)]
        grants = [postgresql.Grant(f"g{i}", database="postgres", role=f"r{i % len(roles)}",
                                   schema=f"s{i % len(schemas)}", object_type="table", privileges=["SELECT"])
                  for i in range(n - 2 * (n // 5))]
        return pulumi.Output.all(*(g.urn for g in grants[-10:]))

    t = time.perf_counter()
    program()
    wall = time.perf_counter() - t
    row = {"resources": n, "wall_s": round(wall, 2),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    print(json.dumps(row))
    out = Path(__file__).parent / "results" / "plain_mocks.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(row, indent=2) + "\n")


if __name__ == "__main__":
    main()
