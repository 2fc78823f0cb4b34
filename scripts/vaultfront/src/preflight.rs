//! Where the AWS credentials and region will come from, decided without a
//! single network call: from the environment and the AWS CLI's files, in
//! the order the AWS SDKs (and so `sam`) look. A deploy without either
//! stops here, in milliseconds, with what to set.
//!
//! What this cannot see: whether keys are still valid, or whether an SSO
//! token has expired. `sam` reports those itself, seconds later.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use aws_config::profile::{Profile, ProfileSet};

/// Said before a deploy with `ApiExecutionLogging=ERROR`. Access logs go
/// through Firehose and need nothing of the account; execution logs can only
/// go to CloudWatch Logs, which API Gateway writes with the one role set in
/// the account's API Gateway settings. The template does not set it: that
/// setting is shared by every API in the account and region, and a second
/// stack (or any other tool) setting it too would overwrite the first.
pub const EXECUTION_LOGS_NEED_THE_ACCOUNT_ROLE: &str =
    "ApiExecutionLogging=ERROR: API Gateway writes execution logs to CloudWatch Logs only with \
     the ACCOUNT-WIDE CloudWatch role of its account settings (AWS::ApiGateway::Account, one per \
     account and region, shared by every API there). This stack does not set it. If `aws \
     apigateway get-account` shows no cloudwatchRoleArn, set one once for the account (README, \
     \"API access logs\"); otherwise the stage update fails with \"CloudWatch Logs role ARN must \
     be set in account settings\".";

/// A snapshot of the environment variables that matter (tests build their own).
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    pub fn from_process() -> Environment {
        Environment {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    #[cfg(test)]
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Environment {
        Environment {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// A variable that is set to something other than blanks.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn aws_file(&self, override_var: &str, name: &str) -> Option<PathBuf> {
        self.get(override_var).map(PathBuf::from).or_else(|| {
            self.get("HOME")
                .or_else(|| self.get("USERPROFILE"))
                .map(|home| Path::new(home).join(".aws").join(name))
        })
    }
}

/// Where the credentials will come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    EnvironmentKeys,
    WebIdentity,
    Container,
    Profile { name: String, how: &'static str },
    InstanceRole,
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::EnvironmentKeys => {
                f.write_str("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            }
            Credentials::WebIdentity => {
                f.write_str("web identity (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN)")
            }
            Credentials::Container => {
                f.write_str("the container credentials endpoint (ECS, CodeBuild)")
            }
            Credentials::Profile { name, how } => write!(f, "profile \"{name}\" ({how})"),
            Credentials::InstanceRole => {
                f.write_str("the instance or task role (--instance-credentials)")
            }
        }
    }
}

/// The region, and where it was found (for the report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub name: String,
    pub source: String,
}

const HOW_TO_SET_CREDENTIALS: &str = "Set one of:
  export AWS_PROFILE=<profile>      # a profile made by `aws configure` or `aws configure sso`
  export AWS_ACCESS_KEY_ID=<key id> AWS_SECRET_ACCESS_KEY=<secret>   # and AWS_SESSION_TOKEN for temporary keys
On EC2 or ECS with an instance or task role, pass --instance-credentials.";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PreflightError {
    #[error("no AWS credentials found. Looked, without any network call, at:\n{}\n{HOW_TO_SET_CREDENTIALS}", .looked.iter().map(|l| format!("  - {l}")).collect::<Vec<_>>().join("\n"))]
    NoCredentials { looked: Vec<String> },
    #[error("{set} is set but {missing} is not: set both, or unset {set} and use a profile (AWS_PROFILE)")]
    HalfTheKeys {
        set: &'static str,
        missing: &'static str,
    },
    #[error("AWS profile \"{name}\" is not in {files}; run `aws configure --profile {name}` (or `aws configure sso`), or pick a profile that exists{}", if .known.is_empty() { String::new() } else { format!(" ({})", .known.join(", ")) })]
    ProfileNotFound {
        name: String,
        files: String,
        known: Vec<String>,
    },
    #[error("AWS profile \"{name}\" has no credentials: it sets none of aws_access_key_id, role_arn, sso_session, sso_start_url, credential_process, web_identity_token_file, login_session; run `aws configure --profile {name}`")]
    ProfileWithoutCredentials { name: String },
    #[error("AWS_WEB_IDENTITY_TOKEN_FILE is set but {0}")]
    WebIdentity(String),
    #[error("no AWS region set. Set one of:\n  export AWS_REGION=<region>       # for example eu-west-1\n  scripts/deploy --region <region>\n  region = \"<region>\" under [default.deploy.parameters] in samconfig.toml{}", .profile.as_ref().map(|p| format!("\n  region = <region> in profile \"{p}\" of your AWS config file")).unwrap_or_default())]
    NoRegion { profile: Option<String> },
    #[error("region `{region}` (from {source_name}) is not an AWS region name like eu-west-1")]
    BadRegion { region: String, source_name: String },
}

/// The AWS CLI's credentials and config files, read by the SDK's own
/// profile parser (so the profiles are the ones `sam` and the SDK see).
struct AwsFiles {
    credentials_path: Option<PathBuf>,
    config_path: Option<PathBuf>,
    profiles: Option<ProfileSet>,
}

impl AwsFiles {
    fn read(env: &Environment) -> AwsFiles {
        let pairs: Vec<(&str, &str)> = env
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let sdk_env = aws_types::os_shim_internal::Env::from_slice(&pairs);
        let fs = aws_types::os_shim_internal::Fs::real();
        let files = aws_runtime::env_config::file::EnvConfigFiles::default();
        // The SDK's loader is async but reads with std::fs: a current-thread
        // runtime runs it to the end at once.
        let profiles = tokio::runtime::Builder::new_current_thread()
            .build()
            .ok()
            .and_then(|rt| {
                rt.block_on(aws_config::profile::load(&fs, &sdk_env, &files, None))
                    .ok()
            });
        AwsFiles {
            credentials_path: env.aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            config_path: env.aws_file("AWS_CONFIG_FILE", "config"),
            profiles,
        }
    }

    fn section(&self, profile: &str) -> Option<&Profile> {
        self.profiles.as_ref()?.get_profile(profile)
    }

    fn describe(&self) -> String {
        let describe = |path: &Option<PathBuf>| match path {
            Some(path) if path.is_file() => path.display().to_string(),
            Some(path) => format!("{} (missing)", path.display()),
            None => "(no home directory)".to_owned(),
        };
        format!(
            "{} or {}",
            describe(&self.credentials_path),
            describe(&self.config_path)
        )
    }

    fn profile_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .profiles
            .iter()
            .flat_map(|set| set.profiles().map(str::to_owned).collect::<Vec<_>>())
            .filter(|name| !name.is_empty())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// How profile `name` gets credentials: `Ok(None)` when it does not exist.
    fn profile(&self, name: &str) -> Result<Option<&'static str>, PreflightError> {
        let Some(section) = self.section(name) else {
            return Ok(None);
        };
        let has = |key: &str| section.get(key).is_some();
        let how = if has("aws_access_key_id") && has("aws_secret_access_key") {
            "access keys"
        } else if has("role_arn") {
            "assumes role_arn"
        } else if has("sso_session") || has("sso_start_url") {
            "IAM Identity Center; run `aws sso login` if its token expired"
        } else if has("credential_process") {
            "credential_process"
        } else if has("web_identity_token_file") {
            "web identity token file"
        } else if has("login_session") {
            "console sign-in; run `aws login` if it expired"
        } else {
            return Err(PreflightError::ProfileWithoutCredentials {
                name: name.to_owned(),
            });
        };
        Ok(Some(how))
    }
}

/// The profile in effect: the flag, else AWS_PROFILE, else AWS_DEFAULT_PROFILE.
fn chosen_profile<'a>(env: &'a Environment, flag: Option<&'a str>) -> Option<&'a str> {
    flag.or_else(|| env.get("AWS_PROFILE"))
        .or_else(|| env.get("AWS_DEFAULT_PROFILE"))
}

/// Decide where credentials come from, or say exactly what to set.
pub fn credentials(
    env: &Environment,
    profile_flag: Option<&str>,
    instance_role: bool,
) -> Result<Credentials, PreflightError> {
    let files = AwsFiles::read(env);
    let named_profile = |name: &str| -> Result<Credentials, PreflightError> {
        match files.profile(name)? {
            Some(how) => Ok(Credentials::Profile {
                name: name.to_owned(),
                how,
            }),
            None => Err(PreflightError::ProfileNotFound {
                name: name.to_owned(),
                files: files.describe(),
                known: files.profile_names(),
            }),
        }
    };
    // An explicit --profile wins over keys in the environment (as in the CLI).
    if let Some(name) = profile_flag {
        return named_profile(name);
    }
    match (
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(_), Some(_)) => return Ok(Credentials::EnvironmentKeys),
        (Some(_), None) => {
            return Err(PreflightError::HalfTheKeys {
                set: "AWS_ACCESS_KEY_ID",
                missing: "AWS_SECRET_ACCESS_KEY",
            })
        }
        (None, Some(_)) => {
            return Err(PreflightError::HalfTheKeys {
                set: "AWS_SECRET_ACCESS_KEY",
                missing: "AWS_ACCESS_KEY_ID",
            })
        }
        (None, None) => {}
    }
    if let Some(token_file) = env.get("AWS_WEB_IDENTITY_TOKEN_FILE") {
        if env.get("AWS_ROLE_ARN").is_none() {
            return Err(PreflightError::WebIdentity(
                "AWS_ROLE_ARN is not".to_owned(),
            ));
        }
        if !Path::new(token_file).is_file() {
            return Err(PreflightError::WebIdentity(format!(
                "{token_file} does not exist"
            )));
        }
        return Ok(Credentials::WebIdentity);
    }
    if let Some(name) = chosen_profile(env, None) {
        return named_profile(name);
    }
    if let Some(how) = files.profile("default")? {
        return Ok(Credentials::Profile {
            name: "default".to_owned(),
            how,
        });
    }
    if env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some()
        || env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
    {
        return Ok(Credentials::Container);
    }
    if instance_role {
        return Ok(Credentials::InstanceRole);
    }
    Err(PreflightError::NoCredentials {
        looked: vec![
            "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: not set".to_owned(),
            format!(
                "AWS_PROFILE: not set; profile \"default\": not in {}",
                files.describe()
            ),
            "AWS_WEB_IDENTITY_TOKEN_FILE, AWS_CONTAINER_CREDENTIALS_*: not set".to_owned(),
        ],
    })
}

/// Decide the region: the flag, samconfig.toml, AWS_REGION,
/// AWS_DEFAULT_REGION, then the profile's `region`. samconfig comes before
/// the environment because `sam` itself treats it as a command-line default.
pub fn region(
    env: &Environment,
    flag: Option<&str>,
    samconfig: Option<&str>,
    profile_flag: Option<&str>,
) -> Result<Region, PreflightError> {
    let profile = chosen_profile(env, profile_flag).unwrap_or("default");
    let files = AwsFiles::read(env);
    let from_profile = files
        .section(profile)
        .and_then(|section| section.get("region"));
    let found = [
        (flag, "--region".to_owned()),
        (samconfig, "samconfig.toml".to_owned()),
        (env.get("AWS_REGION"), "AWS_REGION".to_owned()),
        (
            env.get("AWS_DEFAULT_REGION"),
            "AWS_DEFAULT_REGION".to_owned(),
        ),
        (from_profile, format!("profile \"{profile}\"")),
    ]
    .into_iter()
    .find_map(|(value, source)| {
        value
            .filter(|v| !v.trim().is_empty())
            .map(|v| (v.trim(), source))
    });
    let Some((name, source)) = found else {
        return Err(PreflightError::NoRegion {
            profile: chosen_profile(env, profile_flag).map(str::to_owned),
        });
    };
    if !is_region_name(name) {
        return Err(PreflightError::BadRegion {
            region: name.to_owned(),
            source_name: source,
        });
    }
    Ok(Region {
        name: name.to_owned(),
        source,
    })
}

/// `eu-west-1`, `us-gov-west-1`, `cn-north-1`, `ap-southeast-3`, ...
fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh HOME with the given ~/.aws files, removed when dropped.
    struct Home(PathBuf);

    impl Drop for Home {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    impl std::ops::Deref for Home {
        type Target = Path;
        fn deref(&self) -> &Path {
            &self.0
        }
    }

    fn home(credentials: Option<&str>, config: Option<&str>) -> Home {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "vaultfront-preflight-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let aws = dir.join(".aws");
        std::fs::create_dir_all(&aws).unwrap();
        if let Some(text) = credentials {
            std::fs::write(aws.join("credentials"), text).unwrap();
        }
        if let Some(text) = config {
            std::fs::write(aws.join("config"), text).unwrap();
        }
        Home(dir)
    }

    fn env_with(home: &Path, pairs: &[(&str, &str)]) -> Environment {
        let home = home.to_str().unwrap();
        Environment::from_pairs(pairs.iter().copied().chain([("HOME", home)]))
    }

    #[test]
    fn nothing_set_says_what_to_set() {
        let dir = home(None, None);
        let err = credentials(&env_with(&dir, &[]), None, false).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, PreflightError::NoCredentials { .. }));
        for expected in [
            "AWS_PROFILE",
            "AWS_ACCESS_KEY_ID",
            "(missing)",
            "--instance-credentials",
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} missing from:\n{text}"
            );
        }
    }

    #[test]
    fn environment_keys_win_over_the_default_profile() {
        let dir = home(
            Some("[default]\naws_access_key_id = A\naws_secret_access_key = B\n"),
            None,
        );
        let env = env_with(
            &dir,
            &[("AWS_ACCESS_KEY_ID", "X"), ("AWS_SECRET_ACCESS_KEY", "Y")],
        );
        assert_eq!(
            credentials(&env, None, false),
            Ok(Credentials::EnvironmentKeys)
        );
        let env = env_with(&dir, &[("AWS_ACCESS_KEY_ID", "X")]);
        assert!(credentials(&env, None, false)
            .unwrap_err()
            .to_string()
            .contains("AWS_SECRET_ACCESS_KEY is not"));
        // Blank values count as unset.
        let env = env_with(
            &dir,
            &[("AWS_ACCESS_KEY_ID", " "), ("AWS_SECRET_ACCESS_KEY", "")],
        );
        assert_eq!(
            credentials(&env, None, false),
            Ok(Credentials::Profile {
                name: "default".into(),
                how: "access keys"
            })
        );
    }

    #[test]
    fn profiles_from_both_files() {
        let dir = home(
            Some("[static]\naws_access_key_id=A\naws_secret_access_key=B\n[empty]\n"),
            Some("[profile work]\nsso_session = corp\nregion = eu-central-1\n[profile admin]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = static\n[profile bare]\nregion = us-east-1\n"),
        );
        let env = env_with(&dir, &[("AWS_PROFILE", "work")]);
        assert_eq!(
            credentials(&env, None, false).map(|c| c.to_string()),
            Ok(
                "profile \"work\" (IAM Identity Center; run `aws sso login` if its token expired)"
                    .into()
            )
        );
        assert!(matches!(
            credentials(&env, Some("admin"), false),
            Ok(Credentials::Profile {
                how: "assumes role_arn",
                ..
            })
        ));
        assert!(matches!(
            credentials(&env, Some("static"), false),
            Ok(Credentials::Profile { .. })
        ));
        for name in ["bare", "empty"] {
            assert_eq!(
                credentials(&env, Some(name), false),
                Err(PreflightError::ProfileWithoutCredentials { name: name.into() })
            );
        }
        let err = credentials(&env, Some("typo"), false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"typo\" is not in") && err.contains("admin, bare, empty, static, work"),
            "{err}"
        );
        // The profile's region is the last resort.
        let region = region(&env, None, None, None).unwrap();
        assert_eq!(
            (region.name.as_str(), region.source.as_str()),
            ("eu-central-1", "profile \"work\"")
        );
    }

    #[test]
    fn container_and_instance_roles() {
        let dir = home(None, None);
        let env = env_with(
            &dir,
            &[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds")],
        );
        assert_eq!(credentials(&env, None, false), Ok(Credentials::Container));
        assert_eq!(
            credentials(&env_with(&dir, &[]), None, true),
            Ok(Credentials::InstanceRole)
        );
        let env = env_with(
            &dir,
            &[
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token"),
                ("AWS_ROLE_ARN", "arn"),
            ],
        );
        assert!(credentials(&env, None, false)
            .unwrap_err()
            .to_string()
            .contains("/nonexistent/token does not exist"));
    }

    #[test]
    fn region_precedence_and_shape() {
        let dir = home(None, None);
        let env = env_with(
            &dir,
            &[
                ("AWS_REGION", "eu-west-1"),
                ("AWS_DEFAULT_REGION", "us-west-2"),
            ],
        );
        assert_eq!(region(&env, None, None, None).unwrap().source, "AWS_REGION");
        assert_eq!(
            region(&env, None, Some("ap-southeast-3"), None)
                .unwrap()
                .name,
            "ap-southeast-3"
        );
        assert_eq!(
            region(&env, Some("us-gov-west-1"), Some("x"), None)
                .unwrap()
                .source,
            "--region"
        );
        let env = env_with(&dir, &[("AWS_DEFAULT_REGION", "us-west-2")]);
        assert_eq!(region(&env, None, None, None).unwrap().name, "us-west-2");
        let err = region(&env_with(&dir, &[]), None, None, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("export AWS_REGION=<region>"), "{err}");
        let err = region(&env_with(&dir, &[]), Some("Frankfurt"), None, None).unwrap_err();
        assert!(matches!(err, PreflightError::BadRegion { .. }));
        assert!(
            is_region_name("cn-northwest-1")
                && !is_region_name("eu-west")
                && !is_region_name("EU-WEST-1")
        );
    }
}
