"""No credential written in the fixtures of the credential policies reaches any report format.

The fixtures of WORKLOAD-005, KEYS-004, KEYS-006 and SECRETS-001 hold access key ids and secret
access keys (fake ones generated for them, and AWS's documented examples) in every place the
policies look: environments, user data, parameter and variable defaults, tfvars, metadata. The
report says where they are, masked (`AKIA****************`), and never shows the values.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from validator.config import Config
from validator.model import Report
from validator.reporters import FORMATS, render
from validator.run import run
from validator.secrets import ACCESS_KEY_ID, SECRET_ACCESS_KEY, mask

FIXTURES = Path(__file__).parent.parent / "fixtures" / "policies"
POLICIES = ("WORKLOAD-005", "KEYS-004", "KEYS-006", "SECRETS-001")

KEY_IDS = (
    "AKIAJQCG7LDR4O4KVR5Q", "AKIAXHLJXM6NGXQQUINS", "AKIA7TLT5CZDPQP6WY5V", "AKIASPF3RH3AQO3DJGML",
    "AKIAVTLMBRLDRUYWWHLM", "AKIA4MCAGCXAK7WBGQJM", "AKIAAKZWKL55AXT64UE6", "AKIAXN2QYCI6QAWO63UZ",
    "ASIAOT2HDVZVRX4UGTJL", "AKIAIOSFODNN7EXAMPLE",
)  # fmt: skip
SECRET_KEYS = (
    "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", "xwpZRoQ/PlJbB64AmmAf7yvCslOORE7zcpBRcnqA",
    "ksnL0ZH6IENRHOkBy85Xi5Ox7DY2He8SLiqchDx7", "pDr5SbDt5BJmOGaCA8B9AbRtjaTTxwTZqJ/w4t9b",
    "pCrOCh8noXowKIq7o+q9NHAZtFiG6XtdgnHVtsLx", "MRPrqjiDksnpH6wtEKuxc3JTw5xV+w8rTGfXJgsb",
    "6cIeMdVDApLJGIywrDHRhJbidm73MOZfrMNJOEEZ", "KEtSsZmlhdPtNYjuhKArC7rbeNxsiTAzjpH1DGMA",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
)  # fmt: skip
# Secret-shaped (40 characters, mixed case and digits) but no credential: a random salt with no
# secret-key name next to it, and a CDK export name. KEYS-004 reports neither.
NOT_SECRETS = ("X1l3Oyqm0Bh8tVBtkEcCb3nTECucUSLhhxFz+nn6", "ExportsOutputRefKafkaCredentials4C1E9F2B")


def _fixture_text() -> str:
    return "\n".join(
        p.read_text(encoding="utf-8")
        for policy in POLICIES
        for p in sorted((FIXTURES / policy).rglob("*"))
        if p.is_file()
    )


def test_the_list_holds_exactly_the_keys_written_in_the_fixtures():
    text = _fixture_text()
    key_ids = set(ACCESS_KEY_ID.findall(text))
    secret_shaped = {s for s in SECRET_ACCESS_KEY.findall(text) if mask(s) != s}  # mixed case and digits
    assert key_ids == set(KEY_IDS)
    assert secret_shaped == set(SECRET_KEYS) | set(NOT_SECRETS)


@cache
def _report() -> Report:
    report = run(Config(paths=tuple(str(FIXTURES / policy) for policy in POLICIES)))
    assert report.errors == ()
    return report


def test_the_fixtures_are_reported_with_masked_keys():
    report = _report()
    messages = [f.message for f in report.findings if f.policy_id in ("KEYS-004", "WORKLOAD-005")]
    assert any("AKIA****************" in m for m in messages)
    assert any("ASIA****************" in m for m in messages)
    assert any("wJal" + "*" * 36 in m and "documented example key" in m for m in messages)


@pytest.mark.parametrize(("fmt", "verbosity"), [*((fmt, 0) for fmt in FORMATS), ("text", 1)])
def test_no_secret_value_appears_in_any_output_format(fmt, verbosity):
    output = render(_report(), fmt, verbosity=verbosity)
    assert "KEYS-004" in output
    leaked = [value for value in (*KEY_IDS, *SECRET_KEYS) if value in output]
    assert leaked == [], f"{fmt} shows {leaked}"
    # Nor any other unmasked key id (a value the list above does not know about).
    assert ACCESS_KEY_ID.findall(output) == []


def test_a_checkout_path_that_looks_secret_shaped_is_reported_as_it_is(tmp_path):
    """CI checked the repository out under /check/work/main: `/check/work/main/fixtures/policies/GUARD`
    is a 40-character run of the secret-key alphabet, and the mask hid the file's own name in the
    report. A path is not a key: the file is reported under its name, its findings too."""
    source = FIXTURES / "GUARD-001" / "cloudformation" / "fail.yaml"
    target = tmp_path / "ci-checks" / "work" / "main" / "fixtures" / "policies" / "GUARD-001" / "fail.yaml"
    target.parent.mkdir(parents=True)
    target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    assert "checks/work/main/fixtures/policies/GUARD" in SECRET_ACCESS_KEY.findall(str(target))

    report = run(Config(paths=(str(target),)))
    assert [(r.path, r.status.value) for r in report.files] == [(str(target), "scanned")]
    assert {f.location.file for f in report.findings} == {str(target)}
    for fmt in FORMATS:
        assert "chec" + "*" * 36 not in render(report, fmt)
