"""§4: secrets MUST NOT be duplicated across systems without justification.

Secret assets are linked when they share a fingerprint (the same value; live sources also give the keyed
fingerprint of the value's SHA-256, the only form in which Supabase reports Edge Function secrets) or,
for declared secrets, the same value source (`provenance.ref` of a `secret-config` or `reference`
provenance). Each connected group that spans more than one store, or holds the same literal in two
places, is one finding. The same secret seen in several phases (declared and live Vault) is one member, not a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterator

from ssot.findings import Finding, Severity
from ssot.inventory import Asset, Inventory, Kind, Phase
from ssot.rules import Rule
from ssot.rules._common import (
    PLATFORM_CONFIG,
    STORE_LABEL,
    category,
    check_justification,
    indent,
    justification_index,
    justification_yaml,
    label,
    secret_name_for,
    vault_read_sql,
    vault_secret_proposal,
)
from ssot.rules.hardcoded_secret import is_test_fixture

_SECRET_KINDS = (Kind.VAULT_SECRET, Kind.EDGE_SECRET, Kind.AWS_SECRET, Kind.AWS_PARAMETER,
                 Kind.ODOO_PARAMETER, Kind.SECRET_LITERAL)


def _is_secret(a: Asset) -> bool:
    if is_test_fixture(a):
        # Test suites share fixture passwords on purpose; a real credential format still counts.
        return False
    if a.kind is Kind.AWS_PARAMETER:
        return a.props.get("secure") is True
    if a.kind is Kind.ODOO_PARAMETER:
        return a.props.get("looks_secret") is True
    return True


def _member_key(a: Asset) -> tuple[str, str, str]:
    return (a.store.value, a.kind.value, a.name)


class _Groups:
    """Union-find over members, so links by fingerprint and by provenance ref merge into one group."""

    def __init__(self) -> None:
        self.parent: dict[tuple[str, str, str], tuple[str, str, str]] = {}

    def find(self, k: tuple[str, str, str]) -> tuple[str, str, str]:
        self.parent.setdefault(k, k)
        while self.parent[k] != k:
            self.parent[k] = self.parent[self.parent[k]]
            k = self.parent[k]
        return k

    def union(self, a: tuple[str, str, str], b: tuple[str, str, str]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def subject_of(members: list[Asset]) -> str:
    return ", ".join(sorted({label(m) for m in members}))


def check(inv: Inventory) -> Iterator[Finding]:
    members: dict[tuple[str, str, str], Asset] = {}
    groups = _Groups()
    by_link: dict[tuple[str, str], tuple[str, str, str]] = {}
    for a in inv.of(*_SECRET_KINDS):
        if not _is_secret(a):
            continue
        k = _member_key(a)
        # The first sighting gives the member its location (sources put the most precise one first).
        members.setdefault(k, a)
        groups.find(k)
        links = []
        if a.fingerprint:
            links.append(("fingerprint", a.fingerprint))
        # Live Edge Function secrets are known only by their value's SHA-256 (the Management API's
        # answer); live sources also keep a keyed fingerprint of that digest for every value they read.
        digest_fp = a.props.get("digest_fingerprint")
        if isinstance(digest_fp, str) and digest_fp:
            links.append(("digest", digest_fp))
        if a.provenance and a.provenance.source in ("secret-config", "reference") and a.provenance.ref:
            links.append(("ref", a.provenance.ref))
        for link in links:
            if link in by_link:
                groups.union(by_link[link], k)
            else:
                by_link[link] = k
    refs: dict[tuple[str, str, str], set[str]] = {}
    for (how, value), k in by_link.items():
        if how == "ref":
            refs.setdefault(groups.find(k), set()).add(value)

    components: dict[tuple[str, str, str], list[Asset]] = {}
    for k, a in members.items():
        components.setdefault(groups.find(k), []).append(a)

    justified = justification_index(inv)
    for root, group in sorted(components.items()):
        if len(group) < 2:
            continue
        stores = sorted({m.store.value for m in group})
        literals = [m for m in group if m.kind is Kind.SECRET_LITERAL]
        if len(stores) < 2 and not literals:
            continue  # two names in one store: not "across systems"
        group.sort(key=label)
        subject = subject_of(group)
        just = check_justification(inv, RULE.id, subject, index=justified)
        if just.silenced:
            continue
        first = group[0]
        where = "; ".join(f"{label(m)} ({STORE_LABEL.get(m.store, m.store.value)}, {m.location.describe()})"
                          for m in group)
        how = ("the same config key " + ", ".join(sorted(refs[root]))) if root in refs else "the same value"
        keep = next((m for m in group if m.kind is Kind.VAULT_SECRET), None)
        name = keep.name if keep else secret_name_for(first.name.rsplit(":", 1)[-1])
        cat = next((c for m in group if (c := category(m))), "api-key")
        others = [label(m) for m in group if m is not keep]
        propose = (
            f"Keep one copy, in Supabase Vault as '{name}', and remove {', '.join(others)}; consumers read "
            f"it at run time instead of holding their own copy.\n"
            + ("" if keep else vault_secret_proposal(name, cat) + "\n")
            + (f"Read it where it is needed:\n    {vault_read_sql(name)};\n" if keep else "")
            + "If a second copy is truly required (e.g. an Edge Function needs it at run time), justify "
              f"this exact group ({PLATFORM_CONFIG}):\n"
            + indent(justification_yaml(RULE.id, subject))
        )
        yield RULE.finding(
            subject=subject, location=first.location, phase=first.phase,
            explain=(f"One secret ({how}) is held in {len(group)} places across "
                     f"{len(stores)} store(s): {where}." + just.note()),
            propose=propose,
            metadata={"members": [{"label": label(m), "store": m.store.value, "kind": m.kind.value,
                                   "phase": m.phase.value, "location": m.location.to_dict()}
                                  for m in group],
                      "linked_by": "provenance-ref" if root in refs else "fingerprint",
                      **just.metadata()},
        )


RULE = Rule(
    id="duplicated_secret",
    title="Secret duplicated across systems",
    clause="§4 Secret Management: secrets MUST NOT be duplicated across systems without justification",
    severity=Severity.HIGH,
    categories=("secrets",),
    phases=frozenset({Phase.DECLARED, Phase.STATIC, Phase.LIVE}),
    risk=("Every copy of a secret is another place it can leak from and another place a rotation must "
          "reach; copies drift, and a forgotten copy keeps a revoked credential alive."),
    remediation=("Keep the secret once, in Supabase Vault, and have consumers read it at run time; justify "
                 "(with an owner and an expiry) any copy that must remain."),
    check=check,
)
