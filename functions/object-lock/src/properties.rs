//! The input contract of `Custom::ObjectLock`, and the retention types the
//! rest of the crate shares.
//!
//! Parsing (serde) only checks shapes; [`Properties::desired`] then checks
//! what S3 would reject, so that a bad template fails before any AWS call,
//! with a reason naming the property and the fix.

use custom_resource::properties::{optional_boolean, optional_number};
use serde::Deserialize;
use std::fmt;

/// S3's upper bounds for a default retention period.
pub const MAX_DAYS: u32 = 36_500;
pub const MAX_YEARS: u32 = 100;

/// Object Lock retention mode, spelled as S3 spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    /// Nobody, the root user included, can shorten or remove it.
    Compliance,
    /// Users with `s3:BypassGovernanceRetention` can shorten or remove it.
    Governance,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Compliance => "COMPLIANCE",
            Mode::Governance => "GOVERNANCE",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A retention period: S3 takes exactly one of days or years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Days(u32),
    Years(u32),
}

impl Period {
    /// The fewest days this period can last.
    pub fn min_days(self) -> u32 {
        match self {
            Period::Days(days) => days,
            Period::Years(years) => 365 * years,
        }
    }

    /// The most days this period can last: a year may hold a leap day.
    pub fn max_days(self) -> u32 {
        match self {
            Period::Days(days) => days,
            Period::Years(years) => 365 * years + years.div_ceil(4),
        }
    }

    /// Whether this period may end before `other` does. Across units the
    /// comparison is cautious: 365 days may be shorter than a (leap) year.
    pub fn may_be_shorter_than(self, other: Period) -> bool {
        match (self, other) {
            (Period::Days(a), Period::Days(b)) | (Period::Years(a), Period::Years(b)) => a < b,
            _ => self.min_days() < other.max_days(),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Period::Days(1) => f.write_str("1 day"),
            Period::Days(days) => write!(f, "{days} days"),
            Period::Years(1) => f.write_str("1 year"),
            Period::Years(years) => write!(f, "{years} years"),
        }
    }
}

/// A bucket's default retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub mode: Mode,
    pub period: Period,
}

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} for {}", self.mode, self.period)
    }
}

/// `ResourceProperties` as the template writes them. Numbers are signed so
/// that `-3` reaches [`Properties::desired`] and gets a range message rather
/// than a parse error.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Properties {
    pub bucket_name: String,
    pub mode: Mode,
    #[serde(default, deserialize_with = "optional_number")]
    pub days: Option<i64>,
    #[serde(default, deserialize_with = "optional_number")]
    pub years: Option<i64>,
    /// Must be set to shorten a COMPLIANCE period or to leave COMPLIANCE.
    #[serde(default, deserialize_with = "optional_boolean")]
    pub allow_retention_reduction: Option<bool>,
}

/// What the resource asks of the bucket, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub bucket: String,
    pub retention: Retention,
    pub allow_reduction: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidProperty {
    #[error(
        "ResourceProperties: both Days ({days}) and Years ({years}) are set; S3's default retention \
         takes exactly one of them: remove one"
    )]
    BothPeriods { days: i64, years: i64 },
    #[error(
        "ResourceProperties: neither Days nor Years is set; give the default retention period as \
         exactly one of them, for example Days: 90 or Years: 7"
    )]
    NoPeriod,
    #[error(
        "ResourceProperties.{field} is {value}; it must be a whole number from 1 to {max} \
         (S3's maximum is {max} {unit}): set {field} to a value in that range"
    )]
    OutOfRange {
        field: &'static str,
        value: i64,
        max: u32,
        unit: &'static str,
    },
    #[error("ResourceProperties.BucketName is empty; set it to the bucket's name, for example !Ref DatasetBucket")]
    EmptyBucketName,
    #[error(
        "ResourceProperties.BucketName is {0:?}, which is not a bucket name; give the bare name \
         (for example !Ref DatasetBucket), not an ARN, URL or path"
    )]
    NotABucketName(String),
    #[error("ResourceProperties.BucketName {got:?} is not a valid S3 bucket name: {why}")]
    BucketName { got: String, why: &'static str },
}

impl Properties {
    pub fn validate(&self) -> Result<Desired, InvalidProperty> {
        let bucket = self.bucket_name.trim();
        if bucket.is_empty() {
            return Err(InvalidProperty::EmptyBucketName);
        }
        // A name never holds these; an ARN (`!GetAtt B.Arn`) or `s3://` URL does.
        if bucket.contains([':', '/', ' ']) {
            return Err(InvalidProperty::NotABucketName(self.bucket_name.clone()));
        }
        if let Some(why) = custom_resource::bucket_name::problem(bucket) {
            return Err(InvalidProperty::BucketName {
                got: bucket.to_owned(),
                why,
            });
        }
        let period = match (self.days, self.years) {
            (Some(days), Some(years)) => return Err(InvalidProperty::BothPeriods { days, years }),
            (None, None) => return Err(InvalidProperty::NoPeriod),
            (Some(days), None) => Period::Days(in_range("Days", days, MAX_DAYS, "days")?),
            (None, Some(years)) => Period::Years(in_range("Years", years, MAX_YEARS, "years")?),
        };
        Ok(Desired {
            bucket: bucket.to_owned(),
            retention: Retention {
                mode: self.mode,
                period,
            },
            allow_reduction: self.allow_retention_reduction.unwrap_or(false),
        })
    }
}

fn in_range(
    field: &'static str,
    value: i64,
    max: u32,
    unit: &'static str,
) -> Result<u32, InvalidProperty> {
    u32::try_from(value)
        .ok()
        .filter(|v| (1..=max).contains(v))
        .ok_or(InvalidProperty::OutOfRange {
            field,
            value,
            max,
            unit,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parse(value: Value) -> Result<Properties, String> {
        custom_resource::properties::parse::<Properties>(&value, "ResourceProperties")
            .map_err(|e| e.to_string())
    }

    fn desired(value: Value) -> Result<Desired, String> {
        parse(value)?.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_cloudformation_strings_and_native_values() {
        for props in [
            json!({"BucketName": "bkt", "Mode": "COMPLIANCE", "Days": "30", "AllowRetentionReduction": "true"}),
            json!({"BucketName": "bkt", "Mode": "COMPLIANCE", "Days": 30, "AllowRetentionReduction": true}),
        ] {
            assert_eq!(
                desired(props),
                Ok(Desired {
                    bucket: "bkt".into(),
                    retention: Retention {
                        mode: Mode::Compliance,
                        period: Period::Days(30)
                    },
                    allow_reduction: true,
                })
            );
        }
        let years = desired(json!({"BucketName": "bkt", "Mode": "GOVERNANCE", "Years": "100"}));
        assert_eq!(
            years.map(|d| (d.retention.period, d.allow_reduction)),
            Ok((Period::Years(100), false)),
            "the override defaults to false"
        );
        assert_eq!(
            desired(json!({"BucketName": "bkt", "Mode": "COMPLIANCE", "Days": "36500"}))
                .map(|d| d.retention.period),
            Ok(Period::Days(MAX_DAYS))
        );
    }

    #[test]
    fn exactly_one_period() {
        let both =
            desired(json!({"BucketName": "bkt", "Mode": "COMPLIANCE", "Days": "30", "Years": "1"}))
                .unwrap_err();
        assert!(
            both.contains("both Days (30) and Years (1)") && both.contains("remove one"),
            "{both}"
        );
        let neither = desired(json!({"BucketName": "bkt", "Mode": "COMPLIANCE"})).unwrap_err();
        assert!(
            neither.contains("neither Days nor Years") && neither.contains("Days: 90"),
            "{neither}"
        );
    }

    #[test]
    fn periods_outside_what_s3_allows() {
        for (field, value, max) in [
            ("Days", "0", "36500"),
            ("Days", "-3", "36500"),
            ("Days", "36501", "36500"),
            ("Years", "0", "100"),
            ("Years", "101", "100"),
            ("Years", "-1", "100"),
        ] {
            let err = desired(json!({"BucketName": "bkt", "Mode": "GOVERNANCE", field: value}))
                .unwrap_err();
            assert!(
                err.contains(&format!("ResourceProperties.{field} is {value}"))
                    && err.contains(&format!("from 1 to {max}")),
                "{field}={value}: {err}"
            );
        }
        // Not a number at all: the shared parser names the property.
        let err =
            desired(json!({"BucketName": "bkt", "Mode": "GOVERNANCE", "Days": "1.5"})).unwrap_err();
        assert!(
            err.contains("ResourceProperties.Days") && err.contains("whole number"),
            "{err}"
        );
    }

    #[test]
    fn unknown_mode_lists_the_accepted_ones() {
        for mode in ["compliance", "LEGAL_HOLD", ""] {
            let err = desired(json!({"BucketName": "bkt", "Mode": mode, "Days": "1"})).unwrap_err();
            assert!(
                err.contains("ResourceProperties.Mode")
                    && err.contains("`COMPLIANCE`")
                    && err.contains("`GOVERNANCE`"),
                "{mode}: {err}"
            );
        }
        let err = desired(json!({"BucketName": "bkt", "Days": "1"})).unwrap_err();
        assert!(err.contains("missing required property `Mode`"), "{err}");
    }

    #[test]
    fn bucket_name_must_be_a_name() {
        let err =
            desired(json!({"BucketName": " ", "Mode": "GOVERNANCE", "Days": "1"})).unwrap_err();
        assert!(err.contains("BucketName is empty"), "{err}");
        for name in ["arn:aws:s3:::b", "s3://b", "b/prefix"] {
            let err = desired(json!({"BucketName": name, "Mode": "GOVERNANCE", "Days": "1"}))
                .unwrap_err();
            assert!(err.contains("not an ARN"), "{name}: {err}");
        }
        let err = desired(json!({"BucketName": "Data_Set", "Mode": "GOVERNANCE", "Days": "1"}))
            .unwrap_err();
        assert!(err.contains("not a valid S3 bucket name"), "{err}");
        let err =
            desired(json!({"BucketName": "bkt", "Mode": "GOVERNANCE", "Days": "1", "Bucket": "x"}))
                .unwrap_err();
        assert!(err.contains("unknown property `Bucket`"), "{err}");
    }

    #[test]
    fn shorter_across_units_is_judged_cautiously() {
        use Period::{Days, Years};
        assert!(Days(29).may_be_shorter_than(Days(30)));
        assert!(!Days(30).may_be_shorter_than(Days(30)));
        assert!(Years(1).may_be_shorter_than(Years(2)));
        // A year can be 366 days: 365 days may end before it, 366 cannot.
        assert!(Days(365).may_be_shorter_than(Years(1)));
        assert!(!Days(366).may_be_shorter_than(Years(1)));
        // A year is at least 365 days: never shorter than 365 days.
        assert!(!Years(1).may_be_shorter_than(Days(365)));
        assert!(Years(1).may_be_shorter_than(Days(366)));
        assert!(!Days(1461).may_be_shorter_than(Years(4)));
        assert!(Days(1460).may_be_shorter_than(Years(4)));
    }

    #[test]
    fn periods_read_naturally() {
        assert_eq!(Period::Days(1).to_string(), "1 day");
        assert_eq!(Period::Years(7).to_string(), "7 years");
        let retention = Retention {
            mode: Mode::Compliance,
            period: Period::Days(90),
        };
        assert_eq!(retention.to_string(), "COMPLIANCE for 90 days");
    }
}
