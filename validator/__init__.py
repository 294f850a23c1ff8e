"""iac-validator: a policy-as-code gate for CloudFormation and Terraform."""

__version__ = "0.1.0"
