"""Relations between the resources of one Terraform configuration or plan, for `Template.relations`.

The same relation names as CloudFormation's (`validator/loaders/cfn_relations.py`), followed through a
Reference (`aws_iam_instance_profile.app.name` → `aws_iam_instance_profile.app`, with the module
prefix and instance key of the address) or through a literal name or ARN that names a resource of the
same configuration (a plan knows most names).

| relation | from | to |
|---|---|---|
| `instance_profile` | aws_instance, aws_launch_template, aws_launch_configuration | aws_iam_instance_profile |
| `roles` | aws_iam_instance_profile, aws_cognito_identity_pool_roles_attachment | aws_iam_role |
| `role` | aws_lambda_function | aws_iam_role |
| `identity_pool` | aws_cognito_identity_pool_roles_attachment | aws_cognito_identity_pool |
| `secret` | aws_secretsmanager_secret_rotation | aws_secretsmanager_secret |
| `rotation` | aws_secretsmanager_secret | aws_secretsmanager_secret_rotation (the reverse) |
| `groups` | aws_iam_user (through aws_iam_user_group_membership / aws_iam_group_membership) | aws_iam_group |
| `users` | aws_iam_group, aws_iam_group_membership | aws_iam_user |
| `group` | aws_iam_group_membership | aws_iam_group |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from validator.loaders.links import Links, ResourceIndex
from validator.model import Resource

PROFILE = "aws_iam_instance_profile"
ROLE = "aws_iam_role"
SECRET = "aws_secretsmanager_secret"
GROUP = "aws_iam_group"
USER = "aws_iam_user"
POOL = "aws_cognito_identity_pool"
_NAME = {PROFILE: "name", ROLE: "name", SECRET: "name", GROUP: "name", USER: "name", POOL: "identity_pool_name"}


def _first_block(value: Any) -> Mapping[str, Any]:
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        return value[0]
    return value if isinstance(value, Mapping) else {}


def relations(resources: Iterable[Resource]) -> dict[str, dict[str, tuple[str, ...]]]:
    resources = list(resources)
    index = ResourceIndex(resources, _NAME, SECRET)
    links = Links()
    link = links.link

    for r in resources:
        p = r.properties
        if r.type in ("aws_instance", "aws_launch_configuration"):
            link(r.id, "instance_profile", index.targets(p.get("iam_instance_profile"), PROFILE))
        elif r.type == "aws_launch_template":
            profile = _first_block(p.get("iam_instance_profile"))
            link(r.id, "instance_profile", index.targets([profile.get("arn"), profile.get("name")], PROFILE))
        elif r.type == PROFILE:
            link(r.id, "roles", index.targets([p.get("role"), p.get("roles")], ROLE))
        elif r.type == "aws_lambda_function":
            link(r.id, "role", index.targets(p.get("role"), ROLE))
        elif r.type == "aws_secretsmanager_secret_rotation":
            secrets = index.targets(p.get("secret_id"), SECRET)
            link(r.id, "secret", secrets)
            for secret in secrets:
                link(secret, "rotation", [r.id])
        elif r.type == "aws_cognito_identity_pool_roles_attachment":
            link(r.id, "identity_pool", index.targets(p.get("identity_pool_id"), POOL))
            roles = p.get("roles")
            if isinstance(roles, Mapping):
                link(r.id, "roles", index.targets(list(roles.values()), ROLE))
            mappings = p.get("role_mapping")
            for mapping in mappings if isinstance(mappings, list) else []:
                rules = mapping.get("mapping_rule") if isinstance(mapping, Mapping) else None
                for rule in rules if isinstance(rules, list) else []:
                    if isinstance(rule, Mapping):
                        link(r.id, "roles", index.targets(rule.get("role_arn"), ROLE))
        elif r.type == "aws_iam_user_group_membership":
            users = index.targets(p.get("user"), USER)
            groups = index.targets(p.get("groups"), GROUP)
            for user in users:
                link(user, "groups", groups)
            for group in groups:
                link(group, "users", users)
        elif r.type == "aws_iam_group_membership":
            groups = index.targets(p.get("group"), GROUP)
            users = index.targets(p.get("users"), USER)
            link(r.id, "group", groups)
            link(r.id, "users", users)
            for group in groups:
                link(group, "users", users)
            for user in users:
                link(user, "groups", groups)
    return links.freeze()
