"""Transform a SAM template to CloudFormation JSON offline, for `--local`.

Usage: AWS_DEFAULT_REGION=us-east-1 python sam_to_cfn.py TEMPLATE > out.json

This is what CloudFormation's AWS::Serverless transform does on AWS, run
with samtranslator (shipped with aws-sam-cli) and no network: managed policy
names are not looked up (the template uses none), and each function's
CodeUri becomes a placeholder S3 URI, as `sam package` would leave it; the
local engine runs the workspace binary named in the function's Metadata.
"""

import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicies:
    """No IAM calls: the template names no managed policies."""

    def load(self):
        return {}

    def get_managed_policy_map(self):
        return {}


def main(path, region, account):
    with open(path) as handle:
        template = yaml_parse(handle.read())
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = f"s3://local-artifacts/{name}.zip"
    params = {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws"}
    out = transform(template, params, OfflinePolicies())
    json.dump(out, sys.stdout, indent=1, default=str)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: sam_to_cfn.py TEMPLATE [REGION] [ACCOUNT]")
    main(
        sys.argv[1],
        sys.argv[2] if len(sys.argv) > 2 else "us-east-1",
        sys.argv[3] if len(sys.argv) > 3 else "123456789012",
    )
