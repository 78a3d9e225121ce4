"""Seed moto (server mode) with the example estate's AWS side, from aws-data.json.

Run: `python aws_seed.py --endpoint http://127.0.0.1:54382 [--data aws-data.json]`. moto's state is
reset first, so seeding twice gives the same estate. Credentials are moto's fixed test ones.
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from pathlib import Path
from typing import Any

import boto3

HERE = Path(__file__).resolve().parent
MOTO_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def seed(endpoint: str, data: dict[str, Any]) -> None:
    req = urllib.request.Request(f"{endpoint}/moto-api/reset", data=b"", method="POST",
                                 headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()
    region = data["region"]
    sm = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=region, **MOTO_CREDENTIALS)
    ssm = boto3.client("ssm", endpoint_url=endpoint, region_name=region, **MOTO_CREDENTIALS)
    for s in data.get("secrets", []):
        tags = [{"Key": k, "Value": v} for k, v in (s.get("tags") or {}).items()]
        sm.create_secret(Name=s["name"], SecretString=s["value"], Tags=tags)
    for p in data.get("parameters", []):
        ssm.put_parameter(Name=p["name"], Value=p["value"], Type=p.get("type", "String"), Overwrite=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--endpoint", default="http://127.0.0.1:54382")
    ap.add_argument("--data", default=str(HERE / "aws-data.json"))
    ns = ap.parse_args()
    seed(ns.endpoint, json.loads(Path(ns.data).read_text(encoding="utf-8")))
    print(f"moto at {ns.endpoint} seeded from {Path(ns.data).name}", flush=True)


if __name__ == "__main__":
    main()
