"""Relations between the resources of one CloudFormation template, resolved once after loading.

`relations(resources)` returns `{resource id: {relation: (target ids...)}}`, for `Template.relations`.
A relation is followed through a reference (`!Ref X`, `!GetAtt X.Arn`) or through a literal name or
ARN that names a resource of the template (`IamInstanceProfile: app-profile` and a profile with
`InstanceProfileName: app-profile`). Targets outside the template are not listed.

| relation | from | to |
|---|---|---|
| `instance_profile` | AWS::EC2::Instance, AWS::EC2::LaunchTemplate, AWS::AutoScaling::LaunchConfiguration | AWS::IAM::InstanceProfile |
| `roles` | AWS::IAM::InstanceProfile, AWS::Cognito::IdentityPoolRoleAttachment | AWS::IAM::Role |
| `role` | AWS::Lambda::Function | AWS::IAM::Role |
| `identity_pool` | AWS::Cognito::IdentityPoolRoleAttachment | AWS::Cognito::IdentityPool |
| `secret` | AWS::SecretsManager::RotationSchedule | AWS::SecretsManager::Secret |
| `rotation` | AWS::SecretsManager::Secret | AWS::SecretsManager::RotationSchedule (the reverse) |
| `groups` | AWS::IAM::User (its Groups and every UserToGroupAddition naming it) | AWS::IAM::Group |
| `users` | AWS::IAM::Group, AWS::IAM::UserToGroupAddition | AWS::IAM::User |
| `group` | AWS::IAM::UserToGroupAddition | AWS::IAM::Group |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from validator.loaders.links import Links, ResourceIndex
from validator.model import Resource

PROFILE = "AWS::IAM::InstanceProfile"
ROLE = "AWS::IAM::Role"
SECRET = "AWS::SecretsManager::Secret"
GROUP = "AWS::IAM::Group"
USER = "AWS::IAM::User"
POOL = "AWS::Cognito::IdentityPool"

_NAME_PROPERTY = {
    PROFILE: "InstanceProfileName",
    ROLE: "RoleName",
    SECRET: "Name",
    GROUP: "GroupName",
    USER: "UserName",
    POOL: "IdentityPoolName",
}


def relations(resources: Iterable[Resource]) -> dict[str, dict[str, tuple[str, ...]]]:
    resources = list(resources)
    index = ResourceIndex(resources, _NAME_PROPERTY, SECRET)
    links = Links()
    link = links.link

    for r in resources:
        p = r.properties
        if r.type in ("AWS::EC2::Instance", "AWS::AutoScaling::LaunchConfiguration"):
            link(r.id, "instance_profile", index.targets(p.get("IamInstanceProfile"), PROFILE))
        elif r.type == "AWS::EC2::LaunchTemplate":
            data = p.get("LaunchTemplateData")
            profile = data.get("IamInstanceProfile") if isinstance(data, Mapping) else None
            if isinstance(profile, Mapping):
                link(r.id, "instance_profile", index.targets([profile.get("Arn"), profile.get("Name")], PROFILE))
        elif r.type == PROFILE:
            link(r.id, "roles", index.targets(p.get("Roles"), ROLE))
        elif r.type == "AWS::Lambda::Function":
            link(r.id, "role", index.targets(p.get("Role"), ROLE))
        elif r.type == "AWS::SecretsManager::RotationSchedule":
            secrets = index.targets(p.get("SecretId"), SECRET)
            link(r.id, "secret", secrets)
            for secret in secrets:
                link(secret, "rotation", [r.id])
        elif r.type == "AWS::Cognito::IdentityPoolRoleAttachment":
            link(r.id, "identity_pool", index.targets(p.get("IdentityPoolId"), POOL))
            roles = p.get("Roles")
            if isinstance(roles, Mapping):
                link(r.id, "roles", index.targets(list(roles.values()), ROLE))
            link(r.id, "roles", index.targets(_mapping_roles(p.get("RoleMappings")), ROLE))
        elif r.type == USER:
            groups = index.targets(p.get("Groups"), GROUP)
            link(r.id, "groups", groups)
            for group in groups:
                link(group, "users", [r.id])
        elif r.type == "AWS::IAM::UserToGroupAddition":
            groups = index.targets(p.get("GroupName"), GROUP)
            users = index.targets(p.get("Users"), USER)
            link(r.id, "group", groups)
            link(r.id, "users", users)
            for group in groups:
                link(group, "users", users)
            for user in users:
                link(user, "groups", groups)
    return links.freeze()


def _mapping_roles(mappings: Any) -> list[Any]:
    """RoleARN values of an identity pool's rule-based role mappings."""
    out: list[Any] = []
    for mapping in mappings.values() if isinstance(mappings, Mapping) else ():
        config = mapping.get("RulesConfiguration") if isinstance(mapping, Mapping) else None
        rules = config.get("Rules") if isinstance(config, Mapping) else None
        for rule in rules if isinstance(rules, list) else ():
            if isinstance(rule, Mapping):
                out.append(rule.get("RoleARN"))
    return out
