//! The input contract of `Custom::OriginBucketPolicy`, and its validation
//! into a [`Settings`] the rest of the crate can trust.

use custom_resource::properties::optional_boolean;
use serde::Deserialize;

/// `ResourceProperties`, as the template writes them.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Properties {
    pub bucket_name: String,
    pub mode: Mode,
    /// `Ref` of an `AWS::CloudFront::CloudFrontOriginAccessIdentity` (Mode `OAI`).
    #[serde(default)]
    pub origin_access_identity_id: Option<String>,
    /// `Ref` of an `AWS::CloudFront::Distribution` (Mode `OAC`).
    #[serde(default)]
    pub distribution_id: Option<String>,
    /// Grant only keys under this prefix (for example `media/`).
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Add a deny of plain-HTTP requests when the policy has none. Default true.
    #[serde(default, deserialize_with = "optional_boolean")]
    pub enforce_tls: Option<bool>,
    /// Keep a foreign statement that makes the bucket public instead of failing.
    #[serde(default, deserialize_with = "optional_boolean")]
    pub allow_existing_public_statements: Option<bool>,
    /// Sids of statements another writer (the template's native bucket
    /// policy) put in the policy before this resource: a read without them
    /// is stale, and no write ever drops them.
    #[serde(default)]
    pub expected_sids: Option<Vec<String>>,
}

/// How CloudFront authenticates to the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Mode {
    /// Origin access control: the CloudFront service principal, pinned to one distribution.
    #[serde(rename = "OAC")]
    Oac,
    /// Origin access identity: a CloudFront-owned IAM user.
    #[serde(rename = "OAI")]
    Oai,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Oac => "OAC",
            Mode::Oai => "OAI",
        }
    }
}

/// The one CloudFront identity to grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginIdentity {
    Oai { id: String },
    Oac { distribution_id: String },
}

impl OriginIdentity {
    pub fn mode(&self) -> Mode {
        match self {
            OriginIdentity::Oai { .. } => Mode::Oai,
            OriginIdentity::Oac { .. } => Mode::Oac,
        }
    }
}

/// Properties that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub bucket: String,
    pub identity: OriginIdentity,
    /// Empty for the whole bucket.
    pub key_prefix: String,
    pub enforce_tls: bool,
    pub allow_existing_public_statements: bool,
    pub expected_sids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidProperty {
    #[error("BucketName `{got}` is an ARN or URL; give the bucket's name, `{name}` (Ref of the AWS::S3::Bucket)")]
    BucketArn { got: String, name: String },
    #[error("BucketName `{got}` is not a valid S3 bucket name: {why}")]
    BucketName { got: String, why: &'static str },
    #[error("Mode {mode} needs {needed}, the {what}")]
    MissingIdentity {
        mode: &'static str,
        needed: &'static str,
        what: &'static str,
    },
    #[error("{property} is only used with Mode {other_mode}; remove it (Mode is {mode})")]
    WrongModeProperty {
        property: &'static str,
        other_mode: &'static str,
        mode: &'static str,
    },
    #[error("{property} `{got}` is not a CloudFront id: {hint}")]
    IdentityShape {
        property: &'static str,
        got: String,
        hint: String,
    },
    #[error("KeyPrefix `{got}` {why}")]
    KeyPrefix { got: String, why: &'static str },
    #[error("ExpectedSids `{got}` {why}")]
    ExpectedSid { got: String, why: &'static str },
}

impl Properties {
    pub fn validate(&self) -> Result<Settings, InvalidProperty> {
        let bucket = validate_bucket_name(&self.bucket_name)?;
        let identity = self.identity()?;
        let key_prefix = validate_key_prefix(self.key_prefix.as_deref().unwrap_or(""))?;
        Ok(Settings {
            bucket,
            identity,
            key_prefix,
            enforce_tls: self.enforce_tls.unwrap_or(true),
            allow_existing_public_statements: self
                .allow_existing_public_statements
                .unwrap_or(false),
            expected_sids: validate_expected_sids(self.expected_sids.as_deref().unwrap_or(&[]))?,
        })
    }

    fn identity(&self) -> Result<OriginIdentity, InvalidProperty> {
        match self.mode {
            Mode::Oai => {
                if given(&self.distribution_id).is_some() {
                    return Err(InvalidProperty::WrongModeProperty {
                        property: "DistributionId",
                        other_mode: "OAC",
                        mode: "OAI",
                    });
                }
                let id =
                    given(&self.origin_access_identity_id)
                        .ok_or(InvalidProperty::MissingIdentity {
                        mode: "OAI",
                        needed: "OriginAccessIdentityId",
                        what: "Id of the AWS::CloudFront::CloudFrontOriginAccessIdentity (its Ref)",
                    })?;
                validate_cloudfront_id("OriginAccessIdentityId", id)
                    .map(|id| OriginIdentity::Oai { id })
            }
            Mode::Oac => {
                if given(&self.origin_access_identity_id).is_some() {
                    return Err(InvalidProperty::WrongModeProperty {
                        property: "OriginAccessIdentityId",
                        other_mode: "OAI",
                        mode: "OAC",
                    });
                }
                let id = given(&self.distribution_id).ok_or(InvalidProperty::MissingIdentity {
                    mode: "OAC",
                    needed: "DistributionId",
                    what: "Id of the AWS::CloudFront::Distribution that uses the origin access control (its Ref)",
                })?;
                validate_cloudfront_id("DistributionId", id)
                    .map(|distribution_id| OriginIdentity::Oac { distribution_id })
            }
        }
    }
}

/// A property that is set to something other than blanks.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

/// S3's naming rules for general purpose buckets, checked here so that a
/// typo fails with the rule it breaks rather than S3's generic error.
fn validate_bucket_name(name: &str) -> Result<String, InvalidProperty> {
    let bad = |why| InvalidProperty::BucketName {
        got: name.to_owned(),
        why,
    };
    if let Some(rest) = name
        .strip_prefix("arn:")
        .and_then(|arn| arn.split(":::").nth(1))
        .or_else(|| name.strip_prefix("s3://"))
    {
        return Err(InvalidProperty::BucketArn {
            got: name.to_owned(),
            name: rest.split('/').next().unwrap_or(rest).to_owned(),
        });
    }
    if let Some(why) = custom_resource::bucket_name::problem(name) {
        return Err(bad(why));
    }
    Ok(name.to_owned())
}

/// CloudFront ids (distributions, origin access identities) are upper-case
/// letters and digits, like `E74FTE3AJFJ256A`. The usual mistakes are other
/// attributes of the same resource: name them, and say which one to use.
fn validate_cloudfront_id(property: &'static str, got: &str) -> Result<String, InvalidProperty> {
    let id = got.trim();
    let well_formed = (8..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if well_formed {
        return Ok(id.to_owned());
    }
    let last = id.rsplit(['/', ' ', ':']).next().unwrap_or(id);
    let hint = if id.starts_with("arn:") {
        format!("it is an ARN; give only the Id, `{last}`")
    } else if id.starts_with("origin-access-identity/") {
        format!("it is the S3OriginConfig path; give only the Id, `{last}`")
    } else if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        "it looks like the S3CanonicalUserId; give the Id (the resource's Ref), like E74FTE3AJFJ256A"
            .to_owned()
    } else if id.contains('.') {
        "it looks like a domain name; give the Id (the resource's Ref), like EDFDVBD6EXAMPLE"
            .to_owned()
    } else {
        "expected 8 to 32 upper-case letters and digits (the resource's Ref), like E74FTE3AJFJ256A"
            .to_owned()
    };
    Err(InvalidProperty::IdentityShape {
        property,
        got: got.to_owned(),
        hint,
    })
}

/// The prefix becomes part of a resource ARN, where `*` and `?` are
/// wildcards and `${...}` a policy variable: any of them would widen the
/// grant beyond the prefix that was asked for.
fn validate_expected_sids(sids: &[String]) -> Result<Vec<String>, InvalidProperty> {
    let invalid = |got: &str, why| InvalidProperty::ExpectedSid {
        got: got.to_owned(),
        why,
    };
    for (index, sid) in sids.iter().enumerate() {
        if sid.is_empty() {
            return Err(invalid(
                sid,
                "is empty; give the Sid of a statement of the native bucket policy",
            ));
        }
        if crate::naming::is_managed(sid) {
            return Err(invalid(sid, "names a statement Custom::OriginBucketPolicy writes itself; list only the native policy's Sids"));
        }
        if sids[..index].contains(sid) {
            return Err(invalid(sid, "is listed twice"));
        }
    }
    Ok(sids.to_vec())
}

fn validate_key_prefix(prefix: &str) -> Result<String, InvalidProperty> {
    let bad = |why| InvalidProperty::KeyPrefix {
        got: prefix.to_owned(),
        why,
    };
    if prefix.starts_with('/') {
        return Err(bad(
            "must not start with `/`: S3 keys have no leading slash (use `media/`, not `/media/`)",
        ));
    }
    if prefix.contains(['*', '?']) || prefix.contains("${") {
        return Err(bad("must not contain `*`, `?` or `${`: they are wildcards or policy variables in a policy and would grant more than the prefix"));
    }
    if prefix.len() > 512 || prefix.chars().any(char::is_control) {
        return Err(bad("must be at most 512 bytes without control characters"));
    }
    Ok(prefix.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use custom_resource::properties::parse;
    use serde_json::{json, Value};

    fn settings(value: Value) -> Result<Settings, String> {
        let properties: Properties =
            parse(&value, "ResourceProperties").map_err(|e| e.to_string())?;
        properties.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_both_modes_with_cloudformation_strings() {
        let oai = settings(json!({
            "ServiceToken": "arn:aws:lambda:us-east-1:1:function:f",
            "BucketName": "data-bucket", "Mode": "OAI", "OriginAccessIdentityId": "E74FTE3AJFJ256A",
            "EnforceTls": "false", "AllowExistingPublicStatements": "TRUE"
        }))
        .unwrap();
        assert_eq!(
            oai,
            Settings {
                bucket: "data-bucket".into(),
                identity: OriginIdentity::Oai {
                    id: "E74FTE3AJFJ256A".into()
                },
                key_prefix: String::new(),
                enforce_tls: false,
                allow_existing_public_statements: true,
                expected_sids: Vec::new(),
            }
        );
        let oac = settings(json!({
            "BucketName": "data.bucket-1", "Mode": "OAC", "DistributionId": "EDFDVBD6EXAMPLE",
            "KeyPrefix": "media/"
        }))
        .unwrap();
        assert_eq!(
            oac.identity,
            OriginIdentity::Oac {
                distribution_id: "EDFDVBD6EXAMPLE".into()
            }
        );
        assert_eq!(oac.key_prefix, "media/");
        assert!(oac.enforce_tls, "TLS is enforced unless asked otherwise");
        assert!(!oac.allow_existing_public_statements);
    }

    #[test]
    fn unknown_and_mistyped_properties_are_named() {
        let err = settings(json!({"BucketName": "b-1", "Mode": "OAC", "DistributionId": "EDFDVBD6EXAMPLE", "Distribution": "x"})).unwrap_err();
        assert!(err.contains("unknown property `Distribution`"), "{err}");
        let err = settings(json!({"BucketName": "b-1", "Mode": "oac"})).unwrap_err();
        assert!(
            err.contains("ResourceProperties.Mode") && err.contains("`OAC`"),
            "{err}"
        );
        let err = settings(json!({"BucketName": "b-1", "Mode": "OAC", "DistributionId": "EDFDVBD6EXAMPLE", "EnforceTls": "yes"})).unwrap_err();
        assert!(err.contains("ResourceProperties.EnforceTls"), "{err}");
    }

    #[test]
    fn the_identity_must_match_the_mode() {
        let err = settings(json!({"BucketName": "b-1", "Mode": "OAI"})).unwrap_err();
        assert!(
            err.contains("Mode OAI needs OriginAccessIdentityId"),
            "{err}"
        );
        let err =
            settings(json!({"BucketName": "b-1", "Mode": "OAC", "OriginAccessIdentityId": ""}))
                .unwrap_err();
        assert!(err.contains("Mode OAC needs DistributionId"), "{err}");
        let err = settings(json!({"BucketName": "b-1", "Mode": "OAC", "DistributionId": "EDFDVBD6EXAMPLE", "OriginAccessIdentityId": "E74FTE3AJFJ256A"})).unwrap_err();
        assert!(
            err.contains("OriginAccessIdentityId is only used with Mode OAI"),
            "{err}"
        );
    }

    #[test]
    fn identity_ids_of_the_wrong_shape_say_which_attribute_to_use() {
        let cases = [
            (
                "OAI",
                "OriginAccessIdentityId",
                "origin-access-identity/cloudfront/E74FTE3AJFJ256A",
                "give only the Id, `E74FTE3AJFJ256A`",
            ),
            (
                "OAI",
                "OriginAccessIdentityId",
                &"ab12".repeat(16),
                "S3CanonicalUserId",
            ),
            (
                "OAI",
                "OriginAccessIdentityId",
                "e74fte3ajfj256a",
                "upper-case letters and digits",
            ),
            (
                "OAC",
                "DistributionId",
                "d111111abcdef8.cloudfront.net",
                "domain name",
            ),
            (
                "OAC",
                "DistributionId",
                "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE",
                "give only the Id, `EDFDVBD6EXAMPLE`",
            ),
        ];
        for (mode, property, value, hint) in cases {
            let err =
                settings(json!({"BucketName": "b-1", "Mode": mode, property: value})).unwrap_err();
            assert!(
                err.starts_with(&format!("{property} `{value}` is not a CloudFront id")),
                "{err}"
            );
            assert!(err.contains(hint), "{err}");
        }
    }

    #[test]
    fn bucket_names_follow_s3_rules() {
        let ok = |name: &str| {
            settings(
                json!({"BucketName": name, "Mode": "OAC", "DistributionId": "EDFDVBD6EXAMPLE"}),
            )
        };
        let err = ok("arn:aws:s3:::data-bucket").unwrap_err();
        assert!(
            err.contains("give the bucket's name, `data-bucket`"),
            "{err}"
        );
        let err = ok("s3://data-bucket/x").unwrap_err();
        assert!(err.contains("`data-bucket`"), "{err}");
        for (name, why) in [
            ("ab", "3 to 63"),
            ("Data-Bucket", "lower-case"),
            ("-data", "begin and end"),
            ("data..bucket", "dot next to another dot"),
            ("data_bucket", "lower-case"),
        ] {
            let err = ok(name).unwrap_err();
            assert!(err.contains(why), "{name}: {err}");
        }
        assert!(ok("a.b-c.123").is_ok());
    }

    #[test]
    fn key_prefixes_cannot_widen_the_grant() {
        let with = |prefix: &str| {
            settings(
                json!({"BucketName": "b-1", "Mode": "OAC", "DistributionId": "EDFDVBD6EXAMPLE", "KeyPrefix": prefix}),
            )
        };
        for bad in ["/media/", "media/*", "a?b", "${aws:username}/"] {
            assert!(with(bad).unwrap_err().contains("KeyPrefix"), "{bad}");
        }
        assert_eq!(with("").unwrap().key_prefix, "");
        assert_eq!(with("media/2024/").unwrap().key_prefix, "media/2024/");
    }

    #[test]
    fn expected_sids_name_the_native_policys_statements_once() {
        let with = |sids: Value| {
            settings(
                json!({"BucketName": "b-1", "Mode": "OAC", "DistributionId": "EDFDVBD6EXAMPLE", "ExpectedSids": sids}),
            )
        };
        let sids = with(json!(["DenyInsecureTransport", "DenyTlsOlderThan12"])).unwrap();
        assert_eq!(
            sids.expected_sids,
            ["DenyInsecureTransport", "DenyTlsOlderThan12"]
        );
        for bad in [
            json!([""]),
            json!(["VaultfrontOriginABC"]),
            json!(["A", "A"]),
        ] {
            let err = with(bad.clone()).unwrap_err();
            assert!(err.starts_with("ExpectedSids `"), "{bad}: {err}");
        }
        assert!(with(json!("DenyTlsOlderThan12"))
            .unwrap_err()
            .contains("ExpectedSids"));
    }
}
