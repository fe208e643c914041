#!/usr/bin/env bash
# Lints the infrastructure offline (no AWS account, no network beyond PyPI for the first setup):
#   a) cfn-lint on the raw SAM template;
#   b) the SAM transform, run locally with the aws-sam-translator package, and cfn-lint on its output
#      (catches errors cfn-lint misses on raw SAM: bad Runtime, FunctionResponseTypes typos, ranges);
#   c) a least-privilege check of every IAM policy in the translated template;
#   d) `sam validate --lint` (the SAM CLI, offline with fake credentials);
#   e) the CDK stack in cdk/ against the translated template (cdk/test/parity.ts).
# Any finding, warnings included, fails the script. Prints "infra lint: ok" on success.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-tools.sh

PY=.venv/bin/python
CFN_LINT=.venv/bin/cfn-lint
TEMPLATE="${SWITCHBOARD_TEMPLATE:-template.yaml}"  # override to lint another copy

# The translator resolves pseudo parameters (partition, region) from the environment; keep it offline
# and deterministic. Fake credentials make sure nothing can reach a real account by accident.
export AWS_DEFAULT_REGION=us-east-1
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=lint AWS_SECRET_ACCESS_KEY=lint
unset AWS_PROFILE AWS_SESSION_TOKEN

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
translated="$tmp/template.translated.json"

# No rule is ignored: every cfn-lint finding on this template is a real one. If a documented false
# positive ever appears, add `--ignore-checks <RULE_ID>` to the matching call with a comment saying why.

echo "== cfn-lint $TEMPLATE"
"$CFN_LINT" "$TEMPLATE"

echo "== sam validate --lint (offline)"
SAM_CLI_TELEMETRY=0 .venv-sam/bin/sam validate --lint --template "$TEMPLATE"

echo "== SAM transform (offline) -> cfn-lint"
"$PY" scripts/sam_translate.py "$TEMPLATE" "$translated"
"$CFN_LINT" "$translated"

echo "== least-privilege check (IAM)"
"$PY" - "$translated" <<'PY'
import json
import re
import sys

template = json.load(open(sys.argv[1]))

# The only managed policy allowed: logs:CreateLogGroup/CreateLogStream/PutLogEvents. Its "*" resource
# is AWS's own and the functions cannot work without their logs.
ALLOWED_MANAGED = {"service-role/AWSLambdaBasicExecutionRole"}
MANAGED_RE = re.compile(r"^arn:(?:aws|aws-cn|aws-us-gov|\$\{AWS::Partition\}):iam::aws:policy/(.+)$")

findings = []


def as_list(v):
    return v if isinstance(v, list) else [v]


def check_document(where, doc):
    if not isinstance(doc, dict):
        findings.append(f"{where}: policy document is not a literal object ({json.dumps(doc)[:80]})")
        return
    for i, st in enumerate(as_list(doc.get("Statement", []))):
        sid = st.get("Sid", f"#{i}")
        at = f"{where} statement {sid}"
        if st.get("Effect") != "Allow":
            continue  # a Deny only narrows (e.g. the bucket's Deny s3:* without TLS)
        if "NotAction" in st:
            findings.append(f"{at}: Allow with NotAction grants everything else")
        if "NotResource" in st:
            findings.append(f"{at}: Allow with NotResource grants everything else")
        for a in as_list(st.get("Action", [])):
            if isinstance(a, str) and (a == "*" or a.split(":", 1)[-1] == "*"):
                findings.append(f"{at}: wildcard action {a!r}")
        for r in as_list(st.get("Resource", [])):
            if r == "*":
                findings.append(f"{at}: resource '*' (actions {st.get('Action')})")


def managed_name(arn):
    if isinstance(arn, dict) and "Fn::Sub" in arn and isinstance(arn["Fn::Sub"], str):
        arn = arn["Fn::Sub"]
    if isinstance(arn, str):
        m = MANAGED_RE.match(arn)
        if m:
            return m.group(1)
    return None


roles = 0
for lid, res in template.get("Resources", {}).items():
    rtype = res.get("Type", "")
    props = res.get("Properties", {}) or {}
    if rtype == "AWS::IAM::Role":
        roles += 1
        for p in props.get("Policies", []) or []:
            check_document(f"{lid} policy {p.get('PolicyName')}", p.get("PolicyDocument"))
        for arn in props.get("ManagedPolicyArns", []) or []:
            name = managed_name(arn)
            if name not in ALLOWED_MANAGED:
                findings.append(f"{lid}: managed policy {json.dumps(arn)} is not allowed "
                                "(write a scoped inline statement instead)")
        if props.get("PermissionsBoundary") is not None:
            pass  # a boundary only narrows
    elif rtype in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        check_document(lid, props.get("PolicyDocument"))
    elif rtype in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
        check_document(lid, props.get("PolicyDocument"))
    elif rtype in ("AWS::IAM::User", "AWS::IAM::Group"):
        findings.append(f"{lid}: {rtype} has no place in this stack")

if roles == 0:
    findings.append("no AWS::IAM::Role found in the translated template: is the check looking at the right file?")

for f in findings:
    print(f"least privilege: {f}", file=sys.stderr)
if findings:
    sys.exit(1)
print(f"least privilege: {roles} roles checked")
PY

# The CDK twin of the stack (cdk/) must define the same resources, settings and permissions: the
# parity test synthesises it offline (no cargo, no Docker) and compares it with the translation above.
echo "== CDK parity (cdk/ vs the translated template)"
(cd cdk && node_modules/.bin/tsc --noEmit -p . && node_modules/.bin/ts-node --transpile-only test/parity.ts --sam "$translated")

echo "infra lint: ok"
