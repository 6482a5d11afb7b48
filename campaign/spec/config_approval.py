"""`approval:` and `approvers:` in posts.yaml (top level and per campaign): who must sign a post off.

    approval: required      # or none (the default)
    approvers: 2            # beside it: distinct people needed (default 1)

A campaign inherits each from the top level and may override either. Split from
campaign.spec.config like config_notify; `reader` is config's _Reader.
"""
from __future__ import annotations

from campaign.spec.problems import did_you_mean
from campaign.spec.yamlfile import YMap

APPROVAL_VALUES = ("required", "none")


def read_approval(reader, node: YMap, inherited: tuple[bool, int], top: bool) -> tuple[bool, int]:
    """`approval: required | none` and `approvers: N` beside it: (required, approvers). A campaign
    inherits each from the top level and may override either."""
    required, approvers = inherited
    if "approval" in node:
        value, mark = node["approval"], node.value_mark("approval")
        if isinstance(value, str) and value.strip().lower() in APPROVAL_VALUES:
            required = value.strip().lower() == "required"
        elif isinstance(value, YMap):
            reader.err(mark, "approval must be 'required' or 'none'; for more than one approver write "
                             "'approvers: 2' beside 'approval: required'")
        elif isinstance(value, bool):
            reader.err(mark, f"approval must be 'required' or 'none', not {'yes' if value else 'no'} "
                             "(true/false and yes/no are not used here)")
        else:
            reader.err(mark, f"approval must be 'required' or 'none', not {value!r}"
                             f"{did_you_mean(str(value), APPROVAL_VALUES)}")
    if "approvers" in node:
        count = reader.whole(node, "approvers")
        if count is not None:
            approvers = count
            if not required:
                where = "" if top or "approval" in node else " (here or at the top level)"
                reader.err(node.key_mark("approvers"), f"'approvers: {count}' needs 'approval: required'{where}; "
                                                       "without it posts go out unapproved")
    return required, approvers
