"""Template expressions: a placeholder a template engine fills in at render time, not a value.

Odoo mail templates and their `.po` translations carry `${object.access_token}` (a per-record
portal token, rendered into a link when the mail is sent); Jinja/QWeb/ERB have their own spellings.
Bare environment references (`${VAR}`) are `is_env_reference`'s.
"""

from __future__ import annotations

import re

from ssot.detectors.filters._util import bare

# ${object.access_token}, {{ object.signup_url }}, {{ ctx.get('token') }}, {% … %}, <%= … %>, #{…}:
# the body is an expression over names (dots, calls, indexing, filters), not a literal.
_EXPR = r"[A-Za-z_][\w]*(?:\s*(?:\.[A-Za-z_]\w*|\[[^\]]{0,60}\]|\([^()]{0,60}\)|\|\s*\w+))+"
_TEMPLATE = re.compile(
    rf"\$\{{\s*{_EXPR}\s*\}}|\{{\{{\s*{_EXPR}\s*\}}\}}|\{{%[^%]{{1,200}}%\}}|<%=?\s*{_EXPR}\s*%>|#\{{\s*{_EXPR}\s*\}}"
)


def is_template_expression(secret: str, line: str = "", path: str = "") -> bool:
    """`${object.access_token}`, `{{ object.token }}`: rendered from the record, not hardcoded."""
    return _TEMPLATE.fullmatch(bare(secret)) is not None
