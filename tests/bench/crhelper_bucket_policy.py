"""Custom::OriginBucketPolicy written the plain Python way, with crhelper and
boto3: the yardstick `scripts/bench` compares the Rust `bucket-policy`
function with (same machine, same moto, same events, cold and warm).

It does what functions/bucket-policy does for a Create, Update and Delete:
the same physical id and statement Sids (FNV-1a, see naming.rs), a merge by
Sid that keeps every foreign statement, and the TLS-only deny unless a
foreign one covers the bucket and its objects. It is the simplest version
that works alone on a bucket: one read, one merge, one write, answer. It
does not read back, so two writers racing on one bucket lose each other's
statements; the bench's eight-writers series counts how many. It is
deliberately small: foreign statements go through json.loads/json.dumps (not
byte for byte), and principal forms are compared as written. Those
shortcuts cost nothing measurable here.

Run by awslambdaric (AWS's runtime interface client for Python) against the
bench's Runtime API: `python -m awslambdaric crhelper_bucket_policy.handler`.
"""

import http.client
import json
import logging
import os

import boto3
import crhelper.utils
from botocore.config import Config
from crhelper import CfnResource

logger = logging.getLogger(__name__)

# crhelper always answers over HTTPS. The benchmark's ResponseURL is a
# presigned URL on the local moto server, which speaks plain HTTP; so, only
# when AWS_ENDPOINT_URL is a plain-HTTP emulator, crhelper gets a plain
# connection. Everything else in crhelper runs as released.
if os.environ.get("AWS_ENDPOINT_URL", "").startswith("http://"):

    def _plain_connection(host, context=None):  # noqa: ARG001 (crhelper passes its TLS context)
        return http.client.HTTPConnection(host, timeout=30)

    crhelper.utils.HTTPSConnection = _plain_connection

helper = CfnResource(json_logging=False, log_level="INFO", boto_level="ERROR")
# Path-style addressing: `<bucket>.localhost` does not resolve here (the Rust
# SDK client is told the same when an endpoint is overridden).
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))

MANAGED_SID_PREFIX = "VaultfrontOrigin"
MASK = (1 << 64) - 1


def fnv1a64(*parts):
    value = 0xCBF29CE484222325
    for index, part in enumerate(parts):
        if index:
            value = ((value ^ 0xFF) * 0x100000001B3) & MASK
        for byte in part.encode():
            value = ((value ^ byte) * 0x100000001B3) & MASK
    return value


def compact(value):
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def physical_id(stack_id, logical_id, bucket):
    return f"{bucket}/{logical_id}-{fnv1a64(stack_id, logical_id) >> 16:012x}"


def owner_base(pid):
    return f"{MANAGED_SID_PREFIX}{fnv1a64(pid) >> 16:012X}"


def stack_parts(stack_id):
    parts = stack_id.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[5].startswith("stack/"):
        raise ValueError(f"StackId `{stack_id}` is not a CloudFormation stack ARN")
    return parts[1], parts[4]  # partition, account


def as_bool(props, name, default):
    value = props.get(name, default)
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValueError(f"ResourceProperties.{name}: expected true or false, got {value!r}")


def settings(props):
    bucket = props.get("BucketName")
    if not bucket:
        raise ValueError("ResourceProperties.BucketName is required")
    mode = props.get("Mode")
    if mode == "OAC":
        if not props.get("DistributionId"):
            raise ValueError("ResourceProperties.DistributionId is required with Mode OAC")
    elif mode == "OAI":
        if not props.get("OriginAccessIdentityId"):
            raise ValueError("ResourceProperties.OriginAccessIdentityId is required with Mode OAI")
    else:
        raise ValueError(f"ResourceProperties.Mode: expected OAC or OAI, got {mode!r}")
    return {
        "bucket": bucket,
        "mode": mode,
        "distribution": props.get("DistributionId"),
        "oai": props.get("OriginAccessIdentityId"),
        "prefix": props.get("KeyPrefix", ""),
        "enforce_tls": as_bool(props, "EnforceTls", True),
    }


def desired_statements(pid, conf, partition, account):
    base = owner_base(pid)
    bucket_arn = f"arn:{partition}:s3:::{conf['bucket']}"
    if conf["mode"] == "OAC":
        principal = {"Service": "cloudfront.amazonaws.com"}
        source_arn = f"arn:{partition}:cloudfront::{account}:distribution/{conf['distribution']}"
        condition = {"StringEquals": {"AWS:SourceArn": source_arn}}
    else:
        principal = {
            "AWS": f"arn:{partition}:iam::cloudfront:user/CloudFront Origin Access Identity {conf['oai']}"
        }
        source_arn, condition = None, None
    resource = f"{bucket_arn}/{conf['prefix']}*"
    pinned = fnv1a64(compact(principal), compact(resource), compact(condition) if condition else "")
    grant = {
        "Sid": f"{base}Read{((pinned >> 32) ^ (pinned & 0xFFFFFFFF)):08X}",
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": resource,
    }
    if condition:
        grant["Condition"] = condition
    deny = {
        "Sid": f"{base}DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return [grant, deny], source_arn


def covers_tls(statement, bucket_arn):
    resources = statement.get("Resource", [])
    resources = [resources] if isinstance(resources, str) else resources
    return (
        statement.get("Effect") == "Deny"
        and statement.get("Principal") in ("*", {"AWS": "*"})
        and statement.get("Action") in ("s3:*", "*", ["s3:*"])
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        and bucket_arn in resources
        and f"{bucket_arn}/*" in resources
    )


def read_policy(bucket):
    try:
        return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except s3.exceptions.ClientError as err:
        if err.response["Error"]["Code"] == "NoSuchBucketPolicy":
            return None
        raise


def review(document, base, wanted, bucket_arn):
    """The policy to write (a dict, or "delete"), or None when it is as wanted."""
    statements = (document or {}).get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    own = [s for s in statements if str(s.get("Sid", "")).startswith(base)]
    foreign = [s for s in statements if not str(s.get("Sid", "")).startswith(base)]
    if wanted is not None:
        unmanaged = [s for s in foreign if not str(s.get("Sid", "")).startswith(MANAGED_SID_PREFIX)]
        if any(covers_tls(s, bucket_arn) for s in unmanaged):
            wanted = wanted[:1]
        if own == wanted:
            return None
        merged = dict(document or {"Version": "2012-10-17"})
        merged["Statement"] = foreign + wanted
        return merged
    if not own:
        return None
    if not foreign:
        return "delete"
    merged = dict(document)
    merged["Statement"] = foreign
    return merged


def converge(bucket, base, wanted, bucket_arn):
    """Read, merge, write; the number of writes (0 or 1)."""
    write = review(read_policy(bucket), base, wanted, bucket_arn)
    if write is None:
        return 0
    if write == "delete":
        s3.delete_bucket_policy(Bucket=bucket)
    else:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(write))
    return 1


def grant(event, pid):
    conf = settings(event["ResourceProperties"])
    partition, account = stack_parts(event["StackId"])
    wanted, source_arn = desired_statements(pid, conf, partition, account)
    if not conf["enforce_tls"]:
        wanted = wanted[:1]
    bucket_arn = f"arn:{partition}:s3:::{conf['bucket']}"
    writes = converge(conf["bucket"], owner_base(pid), wanted, bucket_arn)
    logger.info("bucket %s grants the origin identity after %d writes", conf["bucket"], writes)
    helper.Data.update(
        {
            "Sids": ",".join(s["Sid"] for s in wanted),
            "GrantSid": wanted[0]["Sid"],
            "TlsDenySid": wanted[1]["Sid"] if len(wanted) > 1 else "",
            "Principal": compact(wanted[0]["Principal"]),
            "SourceArn": source_arn or "",
            "Mode": conf["mode"],
        }
    )
    return pid


@helper.create
def create(event, _context):
    bucket = settings(event["ResourceProperties"])["bucket"]
    return grant(event, physical_id(event["StackId"], event["LogicalResourceId"], bucket))


@helper.update
def update(event, _context):
    bucket = settings(event["ResourceProperties"])["bucket"]
    pid = event["PhysicalResourceId"]
    if pid.split("/", 1)[0] != bucket:
        pid = physical_id(event["StackId"], event["LogicalResourceId"], bucket)
    return grant(event, pid)


@helper.delete
def delete(event, _context):
    pid = event["PhysicalResourceId"]
    bucket = pid.split("/", 1)[0] or event["ResourceProperties"].get("BucketName", "")
    partition, _ = stack_parts(event["StackId"])
    try:
        converge(bucket, owner_base(pid), None, f"arn:{partition}:s3:::{bucket}")
    except s3.exceptions.NoSuchBucket:
        logger.info("bucket %s is gone, and its policy with it", bucket)


def handler(event, context):
    helper(event, context)
