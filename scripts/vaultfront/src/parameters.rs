//! The template's parameters: their defaults, what each accepts, and the
//! checks CloudFormation would only make after the upload (or that the
//! custom resources would only make after the distribution was built), done
//! here in milliseconds.
//!
//! [`SPECS`] mirrors `Parameters:` in infra/template.yaml; a unit test reads
//! the template and fails when the two drift apart.

use std::collections::BTreeMap;
use std::fmt;

/// What a parameter accepts.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    OneOf(&'static [&'static str]),
    /// A whole number in `min..=max`.
    Integer {
        min: i64,
        max: i64,
    },
    /// Any number at least `min` (CloudFormation's Number takes decimals).
    Number {
        min: f64,
    },
    /// Free text checked by a function; the text says what is expected.
    Text(fn(&str) -> bool, &'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub default: &'static str,
    pub kind: Kind,
}

/// S3's limits for a default retention period (0 = that unit is unused).
pub const MAX_RETENTION_DAYS: i64 = 36_500;
pub const MAX_RETENTION_YEARS: i64 = 100;

pub const SPECS: &[Spec] = &[
    Spec {
        name: "RetentionMode",
        default: "GOVERNANCE",
        kind: Kind::OneOf(&["GOVERNANCE", "COMPLIANCE"]),
    },
    Spec {
        name: "RetentionDays",
        default: "30",
        kind: Kind::Integer {
            min: 0,
            max: MAX_RETENTION_DAYS,
        },
    },
    Spec {
        name: "RetentionYears",
        default: "0",
        kind: Kind::Integer {
            min: 0,
            max: MAX_RETENTION_YEARS,
        },
    },
    Spec {
        name: "AllowRetentionReduction",
        default: "false",
        kind: Kind::OneOf(&["false", "true"]),
    },
    Spec {
        name: "OriginAccess",
        default: "OAC",
        kind: Kind::OneOf(&["OAC", "OAI"]),
    },
    Spec {
        name: "PriceClass",
        default: "PriceClass_100",
        kind: Kind::OneOf(&["PriceClass_100", "PriceClass_200", "PriceClass_All"]),
    },
    Spec {
        name: "DomainName",
        default: "",
        kind: Kind::Text(is_domain_or_empty, "a lower-case domain name like data.example.com, or empty"),
    },
    Spec {
        name: "CertificateArn",
        default: "",
        kind: Kind::Text(
            is_certificate_or_empty,
            "an ACM certificate ARN in us-east-1 (CloudFront reads certificates only there), or empty",
        ),
    },
    Spec {
        name: "ApiMethods",
        default: "GET,HEAD",
        kind: Kind::OneOf(&["GET,HEAD", "GET,HEAD,PUT", "GET,HEAD,PUT,DELETE"]),
    },
    Spec {
        name: "ApiStageName",
        default: "v1",
        kind: Kind::Text(is_stage_name, "1 to 128 letters, digits, hyphens or underscores"),
    },
    Spec {
        name: "ApiRateLimit",
        default: "50",
        // 0 makes a stage that answers 429 to every request.
        kind: Kind::Number { min: 1.0 },
    },
    Spec {
        name: "ApiBurstLimit",
        default: "100",
        kind: Kind::Integer {
            min: 1,
            max: i32::MAX as i64,
        },
    },
    Spec {
        name: "ApiExecutionLogging",
        default: "OFF",
        kind: Kind::OneOf(&["OFF", "ERROR"]),
    },
    Spec {
        name: "CdnAccessLogs",
        default: "true",
        kind: Kind::OneOf(&["true", "false"]),
    },
    Spec {
        name: "LogRetentionDays",
        default: "90",
        kind: Kind::Integer { min: 1, max: 3650 },
    },
    Spec {
        name: "CdnAccess",
        default: "signed",
        kind: Kind::OneOf(&["signed", "public"]),
    },
    Spec {
        name: "CdnPublicKey",
        default: "",
        kind: Kind::Text(
            crate::cdn_key::is_public_key_body_or_empty,
            "a public key: the base64 lines between a PEM's BEGIN/END lines, joined by spaces, \
             or empty (scripts/deploy then makes a key pair)",
        ),
    },
    Spec {
        name: "CdnPublicKey2",
        default: "",
        kind: Kind::Text(
            crate::cdn_key::is_public_key_body_or_empty,
            "a public key in CdnPublicKey's format, or empty",
        ),
    },
];

/// Regions that are off by default and that CloudFront does not deliver
/// standard logs to (Amazon CloudFront Developer Guide, "Standard logging").
pub const OPT_IN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
];

/// One thing wrong with the parameters, with the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub parameter: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.parameter, self.message)
    }
}

fn problem(parameter: &str, message: impl Into<String>) -> Problem {
    Problem {
        parameter: parameter.to_owned(),
        message: message.into(),
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("parameter_overrides: {0}")]
pub struct OverridesError(String);

/// Parse `sam deploy --parameter-overrides` text: `Key=Value` or
/// `Key="Value with spaces"` separated by blanks, or the long form
/// `ParameterKey=Key,ParameterValue=Value`.
pub fn parse_overrides(text: &str) -> Result<Vec<(String, String)>, OverridesError> {
    tokens(text)?
        .into_iter()
        .map(|token| parse_assignment(&token))
        .collect()
}

/// `Key=Value` (one CLI `--parameter`, or one override token).
pub fn parse_assignment(token: &str) -> Result<(String, String), OverridesError> {
    if let Some(long) = token.strip_prefix("ParameterKey=") {
        let (key, value) = long.split_once(",ParameterValue=").ok_or_else(|| {
            OverridesError(format!(
                "`{token}` should read ParameterKey=<name>,ParameterValue=<value>"
            ))
        })?;
        return Ok((key.to_owned(), value.to_owned()));
    }
    match token.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(OverridesError(format!(
            "`{token}` should read Name=Value (for example RetentionDays=90)"
        ))),
    }
}

/// Split on blanks outside quotes; drop the quotes; `\"` inside double quotes.
fn tokens(text: &str) -> Result<Vec<String>, OverridesError> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut in_token = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_token {
                    tokens.push(std::mem::take(&mut current));
                    in_token = false;
                }
            }
            '"' | '\'' => {
                in_token = true;
                let quote = c;
                loop {
                    match chars.next() {
                        Some(c) if c == quote => break,
                        Some('\\') if quote == '"' => match chars.next() {
                            Some(escaped) => current.push(escaped),
                            None => break,
                        },
                        Some(c) => current.push(c),
                        None => {
                            return Err(OverridesError(format!(
                                "a {quote} quote is not closed in `{text}`"
                            )))
                        }
                    }
                }
            }
            c => {
                in_token = true;
                current.push(c);
            }
        }
    }
    if in_token {
        tokens.push(current);
    }
    Ok(tokens)
}

/// Every template parameter with its effective value: the template default,
/// then samconfig.toml's overrides, then the command line's.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameters {
    values: BTreeMap<&'static str, String>,
    unknown: Vec<String>,
}

impl Parameters {
    pub fn defaults() -> Parameters {
        Parameters {
            values: SPECS
                .iter()
                .map(|spec| (spec.name, spec.default.to_owned()))
                .collect(),
            unknown: Vec::new(),
        }
    }

    pub fn apply(&mut self, overrides: &[(String, String)]) {
        for (key, value) in overrides {
            match SPECS.iter().find(|spec| spec.name == key) {
                Some(spec) => {
                    self.values.insert(spec.name, value.clone());
                }
                None if !self.unknown.contains(key) => self.unknown.push(key.clone()),
                None => {}
            }
        }
    }

    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    /// `Key=Value` words for `sam deploy --parameter-overrides`, every
    /// parameter given, so that what was checked is what is sent.
    pub fn to_overrides(&self) -> Vec<String> {
        SPECS
            .iter()
            .map(|spec| format!("{}={}", spec.name, self.get(spec.name)))
            .collect()
    }

    /// Every problem at once, so that one run shows all there is to fix.
    pub fn check(&self) -> Result<Summary, Vec<Problem>> {
        let known: Vec<&str> = SPECS.iter().map(|spec| spec.name).collect();
        let mut problems: Vec<Problem> = self
            .unknown
            .iter()
            .map(|name| {
                problem(
                    name,
                    format!(
                        "is not a parameter of infra/template.yaml; it has {}",
                        known.join(", ")
                    ),
                )
            })
            .collect();
        for spec in SPECS {
            if let Err(message) = check_value(spec.kind, self.get(spec.name)) {
                problems.push(problem(spec.name, message));
            }
        }
        let days = self.get("RetentionDays").parse::<i64>().ok();
        let years = self.get("RetentionYears").parse::<i64>().ok();
        match (days, years) {
            (Some(0), Some(0)) => problems.push(problem(
                "RetentionDays/RetentionYears",
                "both are 0; set one of them (RetentionDays=1..36500 or RetentionYears=1..100) \
                 and leave the other 0",
            )),
            (Some(d), Some(y)) if d != 0 && y != 0 => problems.push(problem(
                "RetentionDays/RetentionYears",
                format!(
                    "both are set ({d} days and {y} years); S3 takes exactly one: set the other to 0 \
                     (the template's default is RetentionDays=30, so RetentionYears=N needs RetentionDays=0)"
                ),
            )),
            _ => {}
        }
        if self.get("DomainName").is_empty() != self.get("CertificateArn").is_empty() {
            problems.push(problem(
                "DomainName/CertificateArn",
                "set both (a custom domain and its us-east-1 ACM certificate) or neither",
            ));
        }
        if problems.is_empty() {
            Ok(self.summary())
        } else {
            Err(problems)
        }
    }

    /// A parameter that cannot work in `region`.
    pub fn check_region(&self, region: &str) -> Result<(), Problem> {
        if OPT_IN_REGIONS.contains(&region) && self.get("CdnAccessLogs") == "true" {
            return Err(problem(
                "CdnAccessLogs",
                format!(
                    "CloudFront does not deliver standard logs to buckets in {region} (an opt-in \
                     region); pass --parameter CdnAccessLogs=false, or deploy to another region"
                ),
            ));
        }
        Ok(())
    }

    fn summary(&self) -> Summary {
        let period = match self.get("RetentionYears") {
            "0" => plural(self.get("RetentionDays"), "day"),
            years => plural(years, "year"),
        };
        Summary {
            retention: format!("{} for {period}", self.get("RetentionMode")),
            compliance: self.get("RetentionMode") == "COMPLIANCE",
            reduction_allowed: self.get("AllowRetentionReduction") == "true",
        }
    }
}

/// What the checked parameters mean, for the preflight's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// For example "COMPLIANCE for 7 years".
    pub retention: String,
    pub compliance: bool,
    pub reduction_allowed: bool,
}

fn plural(count: &str, unit: &str) -> String {
    if count == "1" {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

fn check_value(kind: Kind, value: &str) -> Result<(), String> {
    match kind {
        Kind::OneOf(allowed) if allowed.contains(&value) => Ok(()),
        Kind::OneOf(allowed) => Err(format!(
            "`{value}` is not allowed; use one of {}",
            allowed.join(" | ")
        )),
        Kind::Integer { min, max } => match value.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(()),
            Ok(n) => Err(format!(
                "{n} is out of range; use a whole number from {min} to {max}"
            )),
            Err(_) => Err(format!(
                "`{value}` is not a whole number; use one from {min} to {max}"
            )),
        },
        Kind::Number { min } => match value.parse::<f64>() {
            Ok(n) if n.is_finite() && n >= min => Ok(()),
            _ => Err(format!("`{value}` is not a number of at least {min}")),
        },
        Kind::Text(valid, _) if valid(value) => Ok(()),
        Kind::Text(_, expected) => Err(format!("`{value}` is not {expected}")),
    }
}

fn is_domain_or_empty(value: &str) -> bool {
    value.is_empty()
        || (value.len() <= 253
            && value.contains('.')
            && value.split('.').all(|label| {
                (1..=63).contains(&label.len())
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            }))
}

fn is_certificate_or_empty(value: &str) -> bool {
    if value.is_empty() {
        return true;
    }
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    matches!(parts.as_slice(),
        ["arn", partition, "acm", "us-east-1", account, resource]
            if partition.starts_with("aws")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("certificate/").is_some_and(|id| id.len() == 36))
}

fn is_stage_name(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(overrides: &[(&str, &str)]) -> Parameters {
        let mut parameters = Parameters::defaults();
        let owned: Vec<(String, String)> = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parameters.apply(&owned);
        parameters
    }

    fn problems(overrides: &[(&str, &str)]) -> Vec<String> {
        with(overrides)
            .check()
            .err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn overrides_parse_in_every_form_sam_accepts() {
        assert_eq!(
            parse_overrides(
                r#"RetentionMode="COMPLIANCE" ApiMethods=GET,HEAD Name='a b' Q="say \"hi\"""#
            )
            .unwrap(),
            vec![
                ("RetentionMode".into(), "COMPLIANCE".into()),
                ("ApiMethods".into(), "GET,HEAD".into()),
                ("Name".into(), "a b".into()),
                ("Q".into(), "say \"hi\"".into()),
            ]
        );
        assert_eq!(
            parse_overrides("ParameterKey=RetentionDays,ParameterValue=90").unwrap(),
            vec![("RetentionDays".into(), "90".into())]
        );
        assert_eq!(
            parse_overrides(r#"DomainName="""#).unwrap(),
            vec![("DomainName".into(), String::new())]
        );
        assert!(parse_overrides("RetentionDays").is_err());
        assert!(parse_overrides(r#"A="open"#).is_err());
        assert!(parse_overrides("ParameterKey=A").is_err());
    }

    #[test]
    fn the_defaults_are_valid() {
        let summary = Parameters::defaults().check().unwrap();
        assert_eq!(summary.retention, "GOVERNANCE for 30 days");
        assert!(!summary.compliance && !summary.reduction_allowed);
    }

    #[test]
    fn the_project_samconfig_overrides_are_valid() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samconfig.toml");
        let config = crate::samconfig::SamConfig::read(&path).unwrap();
        let text = config
            .get_str("default", "deploy", "parameter_overrides")
            .unwrap();
        let overrides = parse_overrides(text).unwrap();
        let mut parameters = Parameters::defaults();
        parameters.apply(&overrides);
        assert!(parameters.check().is_ok(), "{:?}", parameters.check());
        // Its comment says it lists every parameter, at its default.
        let listed: BTreeMap<&str, &str> = overrides
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let every: BTreeMap<&str, &str> = SPECS.iter().map(|s| (s.name, s.default)).collect();
        assert_eq!(listed, every, "samconfig.toml's parameter_overrides");
    }

    #[test]
    fn stage_throttling_of_zero_is_refused() {
        for (name, value) in [
            ("ApiRateLimit", "0"),
            ("ApiRateLimit", "0.5"),
            ("ApiBurstLimit", "0"),
        ] {
            let found = problems(&[(name, value)]);
            assert!(
                found.iter().any(|p| p.starts_with(name)),
                "{name}={value}: {found:?}"
            );
        }
        assert!(problems(&[("ApiRateLimit", "1"), ("ApiBurstLimit", "1")]).is_empty());
    }

    #[test]
    fn retention_out_of_range_names_the_parameter_and_the_range() {
        let found = problems(&[("RetentionDays", "0"), ("RetentionYears", "101")]);
        assert_eq!(
            found,
            ["RetentionYears: 101 is out of range; use a whole number from 0 to 100"]
        );
        let found = problems(&[("RetentionDays", "36501")]);
        assert!(
            found[0].starts_with("RetentionDays: 36501 is out of range"),
            "{found:?}"
        );
        let found = problems(&[("RetentionDays", "-1")]);
        assert!(found[0].contains("from 0 to 36500"), "{found:?}");
        let found = problems(&[("RetentionDays", "ninety")]);
        assert!(
            found[0].contains("`ninety` is not a whole number"),
            "{found:?}"
        );
    }

    #[test]
    fn exactly_one_retention_period() {
        let found = problems(&[("RetentionYears", "7")]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].contains("both are set (30 days and 7 years)")
                && found[0].contains("RetentionDays=0"),
            "{found:?}"
        );
        let found = problems(&[("RetentionDays", "0")]);
        assert!(found[0].contains("both are 0"), "{found:?}");
        let summary = with(&[
            ("RetentionDays", "0"),
            ("RetentionYears", "1"),
            ("RetentionMode", "COMPLIANCE"),
        ])
        .check()
        .unwrap();
        assert_eq!(summary.retention, "COMPLIANCE for 1 year");
        assert!(summary.compliance);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let found = problems(&[
            ("RetentionMode", "compliance"),
            ("OriginAccess", "public"),
            ("ApiMethods", "ANY"),
            ("Colour", "red"),
            ("DomainName", "data.example.com"),
            ("ApiStageName", "v 1"),
        ]);
        let text = found.join("\n");
        for expected in [
            "Colour: is not a parameter",
            "RetentionMode: `compliance` is not allowed; use one of GOVERNANCE | COMPLIANCE",
            "OriginAccess: `public` is not allowed",
            "ApiMethods: `ANY` is not allowed; use one of GET,HEAD | GET,HEAD,PUT | GET,HEAD,PUT,DELETE",
            "ApiStageName: `v 1` is not 1 to 128",
            "DomainName/CertificateArn: set both",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }

    #[test]
    fn certificates_must_be_in_us_east_1() {
        let arn =
            "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
        assert!(
            with(&[("DomainName", "data.example.com"), ("CertificateArn", arn)])
                .check()
                .is_ok()
        );
        let found = problems(&[
            ("DomainName", "data.example.com"),
            ("CertificateArn", &arn.replace("us-east-1", "eu-west-1")),
        ]);
        assert!(found[0].contains("us-east-1"), "{found:?}");
    }

    #[test]
    fn opt_in_regions_need_cdn_logs_off() {
        let on = Parameters::defaults();
        assert!(on.check_region("eu-west-1").is_ok());
        let err = on.check_region("af-south-1").unwrap_err().to_string();
        assert!(err.contains("CdnAccessLogs=false"), "{err}");
        assert!(with(&[("CdnAccessLogs", "false")])
            .check_region("af-south-1")
            .is_ok());
    }

    #[test]
    fn overrides_carry_every_parameter() {
        let words = with(&[("ApiMethods", "GET,HEAD,PUT")]).to_overrides();
        assert_eq!(words.len(), SPECS.len());
        assert!(words.contains(&"ApiMethods=GET,HEAD,PUT".to_owned()));
        assert!(words.contains(&"DomainName=".to_owned()));
    }

    /// The `Parameters:` section of the template, read as text: each name
    /// with its Default, AllowedValues, MinValue and MaxValue lines.
    fn template_parameters() -> BTreeMap<String, BTreeMap<String, String>> {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        let mut found = BTreeMap::new();
        let mut current: Option<String> = None;
        let mut inside = false;
        for line in text.lines() {
            if !line.starts_with(' ') && !line.is_empty() && !line.starts_with('#') {
                inside = line == "Parameters:";
                continue;
            }
            if !inside {
                continue;
            }
            if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
                if !name.starts_with(' ') && !name.starts_with('#') {
                    current = Some(name.to_owned());
                    found.insert(name.to_owned(), BTreeMap::new());
                    continue;
                }
            }
            if let (Some(name), Some((key, value))) = (&current, line.trim().split_once(": ")) {
                if line.starts_with("    ") && !line.starts_with("     ") {
                    let value = value.trim().trim_matches('"').to_owned();
                    found
                        .get_mut(name)
                        .map(|fields| fields.insert(key.to_owned(), value));
                }
            }
        }
        found
    }

    #[test]
    fn specs_match_the_template() {
        let template = template_parameters();
        let names: Vec<&str> = template.keys().map(String::as_str).collect();
        let mut ours: Vec<&str> = SPECS.iter().map(|spec| spec.name).collect();
        ours.sort_unstable();
        assert_eq!(names, ours, "the template's parameters and SPECS differ");
        for spec in SPECS {
            let fields = &template[spec.name];
            assert_eq!(
                fields.get("Default").map(String::as_str),
                Some(spec.default),
                "{}: Default",
                spec.name
            );
            match spec.kind {
                Kind::OneOf(allowed) => {
                    let listed: Vec<String> = fields["AllowedValues"]
                        .trim_matches(['[', ']'])
                        .split(", ")
                        .map(|v| v.trim_matches('"').to_owned())
                        .collect();
                    assert_eq!(listed, allowed, "{}: AllowedValues", spec.name);
                }
                Kind::Integer { min, max } => {
                    assert_eq!(
                        fields.get("MinValue"),
                        Some(&min.to_string()),
                        "{}",
                        spec.name
                    );
                    if max != i32::MAX as i64 {
                        assert_eq!(
                            fields.get("MaxValue"),
                            Some(&max.to_string()),
                            "{}",
                            spec.name
                        );
                    }
                }
                Kind::Number { min } => {
                    assert_eq!(
                        fields.get("MinValue"),
                        Some(&format!("{min}")),
                        "{}",
                        spec.name
                    );
                }
                Kind::Text(valid, _) => assert!(valid(spec.default), "{}", spec.name),
            }
        }
    }
}
