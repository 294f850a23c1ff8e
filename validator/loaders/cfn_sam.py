"""SAM templates (`Transform: AWS::Serverless-2016-10-31`) expanded with cfn-lint's SAM transform.

cfn-lint wraps the AWS SAM translator (`samtranslator`, installed with cfn-lint) so that it runs
offline: local CodeUri/ContentUri/DefinitionUri and serverless-repository Locations are replaced by
placeholder S3 URIs and managed policy ARNs come from a file shipped with cfn-lint. We run exactly
that, on a copy of the decoded template, and keep the keys' line marks it preserves.

Every expanded resource is traced back to the SAM resource it came from: a resource keeps its
logical id (`MyFunction` → AWS::Lambda::Function), generated ones start with it (`MyFunctionRole`,
`MyFunctionApiPermissionProd`); implicit APIs (`ServerlessRestApi`) come from no single resource.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
SAM_PREFIX = "AWS::Serverless::"
_REGION = "us-east-1"  # the translator needs one for ARNs; region-specific values stay symbolic for us


@dataclass(frozen=True)
class Expansion:
    template: Mapping[str, Any] | None  # the expanded template, None when the transform failed
    sources: Mapping[str, str] = field(default_factory=dict)  # expanded logical id → SAM logical id ("" implicit)
    error: str = ""


def transforms(template: Mapping[str, Any]) -> list[str]:
    declared = template.get("Transform")
    items = declared if isinstance(declared, list) else [declared]
    return [str(t) for t in items if isinstance(t, str)]


def is_sam(template: Mapping[str, Any]) -> bool:
    return SAM_TRANSFORM in transforms(template)


def expand(path: str, template: Mapping[str, Any]) -> Expansion:
    """Run the SAM transform on a copy of `template`. Never raises: a failure is an Expansion with an error.

    The steps are cfn-lint's (`cfnlint.template.transforms._sam.Transform.transform_template`): its
    offline preparation of the template, then the translator with cfn-lint's managed policy map. Two
    costs of that path that do not change between templates are paid once per process instead: a
    boto3 session (the translator only reads its region name) and the validation of the policy
    templates file shipped with samtranslator (60 ms per template otherwise).
    """
    try:  # private to cfn-lint (pinned in pyproject.toml): if it ever goes, SAM templates are judged untransformed
        from cfnlint.decode.utils import convert_dict
        from cfnlint.template.transforms._sam import Transform  # already imported with cfnlint.decode
        from samtranslator.parser import parser
        from samtranslator.public.exceptions import InvalidDocumentException
        from samtranslator.translator import translator as sam_translator
    except ImportError as exc:
        return Expansion(None, error=f"this cfn-lint has no SAM transform ({exc})")

    saved = os.environ.get("AWS_DEFAULT_REGION")
    try:
        work = copy.deepcopy(template)
        prepared = Transform(path, work, _REGION)
        prepared._replace_variables_with_language_extension()
        prepared._replace_local_codeuri()  # local CodeUri etc. → placeholder S3 URIs: nothing is fetched
        os.environ["AWS_DEFAULT_REGION"] = _REGION  # as cfn-lint does, for the translator's ARNs
        translator = sam_translator.Translator(
            managed_policy_map=prepared._managed_policy_map,
            sam_parser=parser.Parser(),
            boto_session=_Session(_REGION),
        )
        with _shared_policy_templates(sam_translator):
            expanded = convert_dict(translator.translate(sam_template=work, parameter_values=prepared._parameters, passthrough_metadata=True))
    except InvalidDocumentException as exc:
        return Expansion(None, error="; ".join(_clean(str(getattr(c, "message", c))) for c in exc.causes) or str(exc))
    except Exception as exc:  # the translator's own failure: judged untransformed, reported as a note
        return Expansion(None, error=str(exc) or type(exc).__name__)
    finally:
        if saved is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = saved
    if not isinstance(expanded, Mapping) or not isinstance(expanded.get("Resources"), Mapping):
        return Expansion(None, error="the transform produced no Resources")
    return Expansion(expanded, _sources(template, expanded["Resources"]))


@dataclass(frozen=True)
class _Session:
    """What the translator reads of a boto3 session: the region name (a real one costs 6-20 ms)."""

    region_name: str


@lru_cache(maxsize=1)
def _policy_templates() -> Any:
    """samtranslator's policy templates, validated against their schema once per process."""
    from samtranslator.policy_template_processor.processor import PolicyTemplatesProcessor

    return PolicyTemplatesProcessor(PolicyTemplatesProcessor.get_default_policy_templates_json())


@contextmanager
def _shared_policy_templates(module: Any) -> Iterator[None]:
    """During one translation, the policy-templates plugin reuses the validated processor."""
    processor = _policy_templates()
    original = module.make_policy_template_for_function_plugin
    module.make_policy_template_for_function_plugin = lambda: module.PolicyTemplatesForResourcePlugin(processor)
    try:
        yield
    finally:
        module.make_policy_template_for_function_plugin = original


def _clean(message: str) -> str:
    return message.removeprefix("Error transforming template: ").strip()


def _sources(original: Mapping[str, Any], expanded: Mapping[str, Any]) -> dict[str, str]:
    declared = original.get("Resources")
    declared = declared if isinstance(declared, Mapping) else {}
    sam_ids = sorted(
        (str(k) for k, v in declared.items() if isinstance(v, Mapping) and str(v.get("Type", "")).startswith(SAM_PREFIX)),
        key=len,
        reverse=True,
    )
    out: dict[str, str] = {}
    for logical_id in expanded:
        name = str(logical_id)
        if name in declared:
            body = declared[name]
            is_sam_resource = isinstance(body, Mapping) and str(body.get("Type", "")).startswith(SAM_PREFIX)
            if is_sam_resource:
                out[name] = name
            continue  # a plain CloudFormation resource, unchanged by the transform
        out[name] = next((s for s in sam_ids if name.startswith(s)), "")
    return out
