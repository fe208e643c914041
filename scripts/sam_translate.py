"""The SAM transform, offline: template.yaml -> the CloudFormation template AWS would deploy.

Usage: sam_translate.py TEMPLATE OUT.json. Used by scripts/lint-infra.sh (cfn-lint and the
least-privilege check read its output) and by the CDK parity test (cdk/test/parity.ts compares
the CDK synthesis with it). Needs the project venv (.venv: cfn-lint, aws-sam-translator) and
AWS_DEFAULT_REGION set; makes no AWS call.
"""
import json
import os
import sys

from cfnlint.decode import decode
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

src, dst = sys.argv[1], sys.argv[2]


class OfflineManagedPolicyLoader(ManagedPolicyLoader):
    """The real loader lists AWS managed policies through IAM; the template names none by short
    name (only full ARNs), so an empty map is exact and needs no AWS call."""

    def __init__(self):  # no IAM client
        self._policy_map = {}
        self.max_items = 0

    def load(self):
        return {}


template, problems = decode(src)  # cfn-lint's YAML loader understands !Ref, !Sub, !GetAtt ...
if problems:
    for p in problems:
        print(p, file=sys.stderr)
    sys.exit(1)
template = json.loads(json.dumps(template))  # plain dict/str instead of cfn-lint's node types

# `sam build` / `sam package` replace a local CodeUri with the uploaded artifact's S3 location before
# the transform runs; the translator alone rejects a local path, so stand in a placeholder object.
PLACEHOLDER = "s3://switchboard-lint-placeholder/bootstrap.zip"


def is_local(uri):
    return isinstance(uri, str) and not uri.startswith("s3://")


glob = template.get("Globals", {}).get("Function", {})
if is_local(glob.get("CodeUri")):
    glob["CodeUri"] = PLACEHOLDER
for res in template.get("Resources", {}).values():
    if res.get("Type") == "AWS::Serverless::Function":
        props = res.setdefault("Properties", {})
        if is_local(props.get("CodeUri")):
            props["CodeUri"] = PLACEHOLDER
    # `sam package` uploads a local state machine definition; inline the file instead, so the
    # translation (and cfn-lint after it) sees the real definition.
    if res.get("Type") == "AWS::Serverless::StateMachine":
        props = res.setdefault("Properties", {})
        uri = props.get("DefinitionUri")
        if is_local(uri):
            with open(os.path.join(os.path.dirname(os.path.abspath(src)), uri)) as f:  # relative to the template
                props["Definition"] = json.load(f)
            del props["DefinitionUri"]

try:
    out = transform(template, {}, OfflineManagedPolicyLoader())
except InvalidDocumentException as e:
    for cause in e.causes:
        print(f"SAM transform: {cause.message}", file=sys.stderr)
    sys.exit(1)

with open(dst, "w") as f:
    json.dump(out, f, indent=2, sort_keys=True)
print(f"translated: {len(out.get('Resources', {}))} resources")
