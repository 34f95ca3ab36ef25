"""The SAM template, checked without AWS: cfn-lint clean, its environment parses into the
service's settings, its routes are the app's, and its role grants no more than it must."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from deploy_helpers import TEMPLATE, is_active, load_template, resolve, tool

import seiswindow.config
from seiswindow.config import Settings
from seiswindow.http import INVOCATIONS_PATH, create_app
from seiswindow.model import Limits
from seiswindow.page import ENVELOPE_PATH

TEMPLATE_DATA = load_template()
RESOURCES: dict[str, Any] = TEMPLATE_DATA["Resources"]
FUNCTION = RESOURCES["Function"]
#: The local app's routes that a deployment does not expose: the emulator's invoke path
#: (Lambda itself is that) and the waveform page's envelope (the page is served by
#: ``make serve`` / ``seiswindow serve``, not through Lambda: docs/service.md, "The page").
LOCAL_ONLY = {INVOCATIONS_PATH, ENVELOPE_PATH}


def test_cfn_lint_is_clean() -> None:
    cfn_lint = tool("cfn-lint")
    if cfn_lint is None:
        pytest.skip("cfn-lint is not installed (it is in the dev dependency group)")
    result = subprocess.run([cfn_lint, str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_function_is_the_image_with_the_tutorials_sizing() -> None:
    properties = FUNCTION["Properties"]
    parameters = TEMPLATE_DATA["Parameters"]
    assert properties["PackageType"] == "Image"
    assert "ImageConfig" not in properties, "the Dockerfile's CMD is the handler; do not override it"
    assert FUNCTION["Metadata"]["Dockerfile"] == "Dockerfile"
    assert properties["Architectures"] == [{"Ref": "Architecture"}]
    assert parameters["Architecture"]["AllowedValues"] == ["x86_64", "arm64"]
    assert properties["MemorySize"] == {"Ref": "MemorySize"}
    assert properties["Timeout"] == {"Ref": "Timeout"}
    assert (parameters["MemorySize"]["Default"], parameters["Timeout"]["Default"]) == (2048, 60)


def _environment(**parameters: str) -> dict[str, str]:
    variables = FUNCTION["Properties"]["Environment"]["Variables"]
    resolved = resolve(variables, TEMPLATE_DATA, parameters)
    assert all(isinstance(v, str) for v in resolved.values()), resolved
    return dict(resolved)


def test_default_environment_is_the_public_scedc_bucket_read_anonymously() -> None:
    settings = Settings.from_env(_environment())
    assert settings.archive == "s3://scedc-pds"
    assert not settings.signed
    assert settings.limits == Limits()
    assert settings.max_workers == Settings().max_workers


def test_parameters_reach_the_settings() -> None:
    env = _environment(
        Archive="s3://ncedc-pds/prefix",
        Layout="ncedc",
        ArchiveRegion="us-east-2",
        SignedAccess="true",
        MaxWindows="7",
        MaxSamples="123456",
        MaxWindowSeconds="3600.5",
        MaxResponseBytes="1000000",
        MaxWorkers="4",
    )
    settings = Settings.from_env(env)
    assert (settings.archive, settings.layout, settings.region) == (
        "s3://ncedc-pds/prefix",
        "ncedc",
        "us-east-2",
    )
    assert settings.signed
    assert settings.limits == Limits(
        max_windows=7, max_samples=123_456, max_window_seconds=3600.5, max_response_bytes=1_000_000
    )
    assert settings.max_workers == 4


def test_environment_is_every_variable_the_config_documents() -> None:
    documented = set(re.findall(r"SEISWINDOW_[A-Z_]+", seiswindow.config.__doc__ or ""))
    assert set(_environment()) == documented


def test_parameter_patterns_admit_the_defaults() -> None:
    for name, spec in TEMPLATE_DATA["Parameters"].items():
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], str(spec["Default"])), name


def _template_routes() -> set[tuple[str, str]]:
    routes = set()
    for event in FUNCTION["Properties"]["Events"].values():
        assert event["Type"] == "HttpApi"
        assert event["Properties"]["ApiId"] == {"Ref": "HttpApi"}
        routes.add((event["Properties"]["Method"], event["Properties"]["Path"]))
    return routes


def _app_routes(shared_data: Path) -> set[tuple[str, str]]:
    """``(method, path)`` of the app's operations, from its OpenAPI schema (public, and
    it lists the routes of included routers too)."""
    app = create_app(Settings(archive=str(shared_data / "scedc-pds")))
    paths = app.openapi()["paths"]
    return {
        (method.upper(), path)
        for path, operations in paths.items()
        if path not in LOCAL_ONLY
        for method in operations
        if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE")
    }


def _covers(template_route: tuple[str, str], app_route: tuple[str, str]) -> bool:
    (method, path), (app_method, app_path) = template_route, app_route
    if method != app_method:
        return False
    if path.endswith("/{proxy+}"):
        return app_path.startswith(path.removesuffix("{proxy+}"))
    return path == app_path


def test_every_template_route_is_an_app_route(shared_data: Path) -> None:
    app = _app_routes(shared_data)
    for route in _template_routes():
        assert any(_covers(route, a) for a in app), f"{route} is in the template but not in the app"


def test_every_app_route_is_deployed(shared_data: Path) -> None:
    template = _template_routes()
    for route in _app_routes(shared_data):
        assert any(_covers(t, route) for t in template), f"{route} is in the app but not in the template"


def test_role_writes_only_its_log_group_when_anonymous() -> None:
    role = resolve(RESOURCES["FunctionRole"]["Properties"], TEMPLATE_DATA, {})
    assert "ManagedPolicyArns" not in role
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    statements = _statements(role)
    assert statements == [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::GetAtt": ["LogGroup", "Arn"]},
        }
    ]
    assert FUNCTION["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": "LogGroup"}


@pytest.mark.parametrize(
    ("archive", "bucket"), [("s3://scedc-pds", "scedc-pds"), ("s3://my-archive/ci/waveforms", "my-archive")]
)
def test_role_reads_only_the_archive_bucket_when_signed(archive: str, bucket: str) -> None:
    parameters = {"SignedAccess": "true", "Archive": archive}
    role = resolve(RESOURCES["FunctionRole"]["Properties"], TEMPLATE_DATA, parameters)
    statements = _statements(role)
    assert len(statements) == 3
    s3 = {tuple(_actions(s)): s["Resource"] for s in statements if _actions(s)[0].startswith("s3:")}
    assert s3 == {
        ("s3:ListBucket",): {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}", {"Bucket": bucket}]},
        ("s3:GetObject",): {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}/*", {"Bucket": bucket}]},
    }
    assert Settings.from_env(_environment(**parameters)).signed


def test_function_url_only_when_asked_and_public_only_when_none() -> None:
    assert RESOURCES["FunctionUrl"]["Condition"] == "HasFunctionUrl"
    assert not is_active("HasFunctionUrl", TEMPLATE_DATA, {})
    assert is_active("HasFunctionUrl", TEMPLATE_DATA, {"FunctionUrlAuthType": "AWS_IAM"})
    assert not is_active("PublicFunctionUrl", TEMPLATE_DATA, {"FunctionUrlAuthType": "AWS_IAM"})
    assert is_active("PublicFunctionUrl", TEMPLATE_DATA, {"FunctionUrlAuthType": "NONE"})
    public = [r for r in RESOURCES.values() if r["Type"] == "AWS::Lambda::Permission"]
    assert public and all(r["Condition"] == "PublicFunctionUrl" for r in public)


def test_outputs_give_the_endpoints() -> None:
    outputs = TEMPLATE_DATA["Outputs"]
    assert outputs["TimeWindowsUrl"]["Value"]["Fn::Sub"].endswith("/timewindows")
    assert outputs["ApiUrl"]["Value"]["Fn::Sub"].startswith("https://${HttpApi}.execute-api.")
    assert outputs["FunctionUrl"]["Condition"] == "HasFunctionUrl"


def test_log_group_has_a_retention() -> None:
    properties = RESOURCES["LogGroup"]["Properties"]
    assert properties["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for policy in role["Policies"]
        if isinstance(policy, dict)
        for s in policy["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_samconfig_example_deploys_the_template_as_it_needs() -> None:
    config = tomllib.loads((TEMPLATE.parent / "samconfig.example.toml").read_text())
    deploy = config["default"]["deploy"]["parameters"]
    # The template creates an unnamed IAM role; the image needs an ECR repository.
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["resolve_image_repos"] is True
    assert config["default"]["global"]["parameters"]["region"] == "us-west-2"


def test_large_answers_get_a_bucket_that_forgets_and_a_role_that_writes_only_there() -> None:
    """Issue 10, item 8: the optional results bucket, its lifecycle rule, least privilege."""
    parameters = {"LargeAnswers": "results-bucket"}
    assert is_active("HasResults", TEMPLATE_DATA, parameters)
    assert not is_active("HasResults", TEMPLATE_DATA, {})
    bucket = RESOURCES["ResultsBucket"]
    assert bucket["Condition"] == "HasResults"
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert (rule["Status"], rule["Prefix"], rule["ExpirationInDays"]) == ("Enabled", "results/", 1)
    assert all(bucket["Properties"]["PublicAccessBlockConfiguration"].values())
    role = resolve(RESOURCES["FunctionRole"]["Properties"], TEMPLATE_DATA, parameters)
    s3 = [s for s in _statements(role) if _actions(s)[0].startswith("s3:")]
    assert s3 == [
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": {"Fn::Sub": "${ResultsBucket.Arn}/results/*"},
        }
    ]
    env = resolve(FUNCTION["Properties"]["Environment"]["Variables"], TEMPLATE_DATA, parameters)
    assert env["SEISWINDOW_RESULTS"] == {"Fn::Sub": "s3://${ResultsBucket}/results"}
    assert Settings.from_env(_environment()).results is None  # by default: 413, no bucket


@pytest.mark.parametrize("signed", [False, True])
def test_a_station_table_is_configured_and_read_only_with_signed_access(signed: bool) -> None:
    """Issue 10, item 5: the table's URL reaches the function; the role may read that one
    object when the function reads signed, and nothing more."""
    table = "s3://my-metadata/tables/stations.txt"
    parameters = {"StationTable": table, "SignedAccess": "true" if signed else "false"}
    env = resolve(FUNCTION["Properties"]["Environment"]["Variables"], TEMPLATE_DATA, parameters)
    assert env["SEISWINDOW_STATIONS"] == table
    assert Settings.from_env(_environment(**parameters)).stations == table
    role = resolve(RESOURCES["FunctionRole"]["Properties"], TEMPLATE_DATA, parameters)
    table_reads = [s for s in _statements(role) if "my-metadata" in str(s["Resource"])]
    if signed:
        assert table_reads == [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": {
                    "Fn::Sub": [
                        "arn:${AWS::Partition}:s3:::${Object}",
                        {"Object": "my-metadata/tables/stations.txt"},
                    ]
                },
            }
        ]
    else:
        assert table_reads == []
    assert Settings.from_env(_environment()).stations is None


@pytest.mark.parametrize("index", ["", "/tmp/index.sqlite", "s3://my-index/team/scedc"])
def test_a_shared_record_index_is_read_from_its_prefix_only(index: str) -> None:
    """Issue 11: RecordIndex takes an s3://bucket/prefix of a shared index; the role may then
    list that bucket and read objects under that prefix, and nothing more (read-only)."""
    parameters = {"RecordIndex": index} if index else {}
    pattern = re.compile(TEMPLATE_DATA["Parameters"]["RecordIndex"]["AllowedPattern"])
    assert pattern.match(index)
    assert not pattern.match("s3://my-index/team/") and not pattern.match("https://my-index/x")
    assert Settings.from_env(_environment(**parameters)).index == (index or None)
    role = resolve(RESOURCES["FunctionRole"]["Properties"], TEMPLATE_DATA, parameters)
    index_reads = [s for s in _statements(role) if "my-index" in str(s["Resource"])]
    if not index.startswith("s3://"):
        assert index_reads == []
        return
    assert index_reads == [
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": {"Fn::Sub": ["arn:${AWS::Partition}:s3:::${Bucket}", {"Bucket": "my-index"}]},
        },
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": {
                "Fn::Sub": ["arn:${AWS::Partition}:s3:::${Prefix}/*", {"Prefix": "my-index/team/scedc"}]
            },
        },
    ]
