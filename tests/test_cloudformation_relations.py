"""Relations resolved once by the loader (Template.relations), by reference or by name."""

from __future__ import annotations

import textwrap

from validator.loaders.cloudformation import load
from validator.model import Template

TEMPLATE = """\
Parameters:
  ProfileName:
    Type: String
    Default: app-profile
Resources:
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: app-role
  OtherRole:
    Type: AWS::IAM::Role
  AppProfile:
    Type: AWS::IAM::InstanceProfile
    Properties:
      InstanceProfileName: !Ref ProfileName
      Roles: [!Ref AppRole, app-role, not-in-this-template]
  ByRef:
    Type: AWS::EC2::Instance
    Properties:
      IamInstanceProfile: !Ref AppProfile
  ByName:
    Type: AWS::EC2::Instance
    Properties:
      IamInstanceProfile: app-profile
  ByArn:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        IamInstanceProfile:
          Arn: !GetAtt AppProfile.Arn
  Elsewhere:
    Type: AWS::EC2::Instance
    Properties:
      IamInstanceProfile: shared-profile
  Config:
    Type: AWS::AutoScaling::LaunchConfiguration
    Properties:
      IamInstanceProfile: !Sub "arn:aws:iam::${AWS::AccountId}:instance-profile/app-profile"
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: db-password
  Rotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref Secret
  RotationByArn:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-password-AbCdEf
  Pool:
    Type: AWS::Cognito::IdentityPool
    Properties:
      AllowUnauthenticatedIdentities: false
  PoolRoles:
    Type: AWS::Cognito::IdentityPoolRoleAttachment
    Properties:
      IdentityPoolId: !Ref Pool
      Roles:
        authenticated: !GetAtt AppRole.Arn
        unauthenticated: arn:aws:iam::123456789012:role/app-role
      RoleMappings:
        provider:
          Type: Rules
          RulesConfiguration:
            Rules:
              - Claim: group
                MatchType: Equals
                Value: admins
                RoleARN: !GetAtt OtherRole.Arn
  Admins:
    Type: AWS::IAM::Group
    Properties:
      GroupName: admins
  Readers:
    Type: AWS::IAM::Group
  Alice:
    Type: AWS::IAM::User
    Properties:
      UserName: alice
      Groups: [admins]
  Bob:
    Type: AWS::IAM::User
  Membership:
    Type: AWS::IAM::UserToGroupAddition
    Properties:
      GroupName: !Ref Readers
      Users: [!Ref Bob, alice]
  Handler:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt AppRole.Arn
"""


def relations() -> dict:
    template, errors = load("t.yaml", textwrap.dedent(TEMPLATE))
    assert errors == [] and isinstance(template, Template)
    return {k: dict(v) for k, v in template.relations.items()}


def test_instance_profile_by_reference_name_or_arn_and_its_roles():
    rel = relations()
    for source in ("ByRef", "ByName", "ByArn", "Config"):
        assert rel[source] == {"instance_profile": ("AppProfile",)}, source
    assert "Elsewhere" not in rel  # a profile of another template is not a relation here
    assert rel["AppProfile"] == {"roles": ("AppRole",)}  # by reference and by name, listed once


def test_rotation_schedules_and_their_secrets_both_ways():
    rel = relations()
    assert rel["Rotation"] == {"secret": ("Secret",)}
    assert rel["RotationByArn"] == {"secret": ("Secret",)}  # the ARN's name, without Secrets Manager's suffix
    assert rel["Secret"] == {"rotation": ("Rotation", "RotationByArn")}


def test_identity_pool_role_attachments():
    rel = relations()
    assert rel["PoolRoles"] == {"identity_pool": ("Pool",), "roles": ("AppRole", "OtherRole")}


def test_users_and_groups_from_user_groups_and_user_to_group_additions():
    rel = relations()
    assert rel["Alice"] == {"groups": ("Admins", "Readers")}
    assert rel["Bob"] == {"groups": ("Readers",)}
    assert rel["Admins"] == {"users": ("Alice",)}
    assert rel["Readers"] == {"users": ("Bob", "Alice")}
    assert rel["Membership"] == {"group": ("Readers",), "users": ("Bob", "Alice")}


def test_function_roles():
    assert relations()["Handler"] == {"role": ("AppRole",)}
