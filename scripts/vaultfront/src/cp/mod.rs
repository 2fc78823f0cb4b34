//! `vaultfront cp`: files to and from the stack's S3 API (`ApiInvokeUrl`),
//! past API Gateway's 10 MB by S3's own multipart and ranged forms.

mod api;
mod download;
mod progress;
mod upload;
mod xml;

use crate::cli::CpArgs;
use api::{Api, Reply};
use std::path::{Path, PathBuf};

/// The prefix that names a key of the API.
pub const SCHEME: &str = "s3api://";
/// API Gateway refuses bodies over 10 MB; S3 refuses parts under 5 MiB but the last.
pub const MAX_PART_SIZE: u64 = 10_000_000;
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
pub const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;
pub const DEFAULT_PARALLEL: usize = 4;

#[derive(Debug, Clone)]
pub struct Settings {
    pub part_size: u64,
    pub parallel: usize,
    /// Where interrupted uploads are remembered.
    pub state_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum CpError {
    #[error("{0}")]
    Usage(String),
    #[error("no AWS credentials for signing the API requests: {0}; configure them as for the AWS CLI (profile, environment, SSO)")]
    Credentials(String),
    #[error("{0}")]
    Transport(String),
    #[error("signing {0}")]
    Signing(String),
    #[error("{0}")]
    Answer(String),
    #[error("{method} s3api://{key}: 404, no such key (or no such upload)")]
    NotFound { method: String, key: String },
    #[error("{method} s3api://{key}: 403. Here that means one of: the key does not exist (the API's role cannot list the bucket, so S3 hides missing keys); the stack does not enable this method (ApiMethods: GET,HEAD for reads, GET,HEAD,PUT for uploads); or your credentials lack execute-api:Invoke on the stack's ApiExecuteArn")]
    Forbidden { method: String, key: String },
    #[error("{method} s3api://{key}: HTTP {status}{code}")]
    Refused {
        method: String,
        key: String,
        status: u16,
        code: String,
    },
    #[error("s3api://{key}: checksum mismatch, S3 says {expected}, the downloaded bytes give {got}; nothing was written to the destination")]
    Checksum {
        key: String,
        expected: String,
        got: String,
    },
    #[error("{0}; run the same command again to resume the upload")]
    Resumable(Box<CpError>),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl CpError {
    fn io(path: &Path, source: std::io::Error) -> CpError {
        CpError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// Turn an answer other than 2xx into the error that explains it.
fn check(reply: &Reply, method: &str, key: &str) -> Result<(), CpError> {
    let (method, key) = (method.to_owned(), key.to_owned());
    match reply.status {
        200..=299 => Ok(()),
        403 => Err(CpError::Forbidden { method, key }),
        404 => Err(CpError::NotFound { method, key }),
        status => {
            let code = xml::texts(&reply.body, "Code")
                .ok()
                .and_then(|mut c| c.pop())
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            Err(CpError::Refused {
                method,
                key,
                status,
                code,
            })
        }
    }
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn sha256_base64(bytes: &[u8]) -> String {
    use sha2::Digest;
    base64(&sha2::Sha256::digest(bytes))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One copy to do: a local path and a key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Copy {
    Up { file: PathBuf, key: String },
    Down { key: String, file: PathBuf },
}

/// The copies `args` asks for; `-r` walks a directory for uploads.
fn plan(args: &CpArgs) -> Result<Vec<Copy>, CpError> {
    match (
        args.source.strip_prefix(SCHEME),
        args.destination.strip_prefix(SCHEME),
    ) {
        (None, Some(key)) => {
            let source = PathBuf::from(&args.source);
            if source.is_dir() {
                if !args.recursive {
                    return Err(CpError::Usage(format!(
                        "{} is a directory; pass -r to upload what it holds",
                        source.display()
                    )));
                }
                let prefix = if key.is_empty() || key.ends_with('/') {
                    key.to_owned()
                } else {
                    format!("{key}/")
                };
                let mut copies = Vec::new();
                walk(&source, &source, &prefix, &mut copies)?;
                return Ok(copies);
            }
            let key = if key.is_empty() || key.ends_with('/') {
                let name = source.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
                    CpError::Usage(format!(
                        "{}: no file name to use as the key",
                        source.display()
                    ))
                })?;
                format!("{key}{name}")
            } else {
                key.to_owned()
            };
            Ok(vec![Copy::Up { file: source, key }])
        }
        (Some(key), None) => {
            if args.recursive {
                return Err(CpError::Usage(
                    "-r downloads need a listing of keys, which the API does not offer (the role has no s3:ListBucket); \
                     copy keys one by one, or list with S3 directly"
                        .into(),
                ));
            }
            if key.is_empty() || key.ends_with('/') {
                return Err(CpError::Usage(format!(
                    "{}: name a key, not a prefix",
                    args.source
                )));
            }
            let mut file = PathBuf::from(&args.destination);
            if file.is_dir() {
                file = file.join(key.rsplit('/').next().unwrap_or(key));
            }
            Ok(vec![Copy::Down {
                key: key.to_owned(),
                file,
            }])
        }
        _ => Err(CpError::Usage(format!(
            "one side must be a key ({SCHEME}KEY) and the other a local path; got {} and {}",
            args.source, args.destination
        ))),
    }
}

fn walk(root: &Path, dir: &Path, prefix: &str, copies: &mut Vec<Copy>) -> Result<(), CpError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|source| CpError::io(dir, source))?
        .collect::<Result<_, _>>()
        .map_err(|source| CpError::io(dir, source))?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, prefix, copies)?;
        } else if path.is_file() {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let parts: Option<Vec<&str>> = relative.iter().map(|p| p.to_str()).collect();
            let parts = parts.ok_or_else(|| {
                CpError::Usage(format!("{}: a key must be UTF-8", path.display()))
            })?;
            copies.push(Copy::Up {
                file: path.clone(),
                key: format!("{prefix}{}", parts.join("/")),
            });
        }
    }
    Ok(())
}

fn settings(args: &CpArgs) -> Result<Settings, CpError> {
    let part_size = args
        .part_size_mib
        .map_or(DEFAULT_PART_SIZE, |mib| mib * 1024 * 1024);
    if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&part_size) {
        return Err(CpError::Usage(format!(
            "--part-size {} MiB: a part must be 5 to 9 MiB (S3's smallest part; API Gateway's 10 MB body limit)",
            part_size / 1024 / 1024
        )));
    }
    let parallel = args.parallel.unwrap_or(DEFAULT_PARALLEL);
    if !(1..=32).contains(&parallel) {
        return Err(CpError::Usage(format!(
            "--parallel {parallel}: give 1 to 32 requests in flight"
        )));
    }
    let state_dir = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("vaultfront/uploads");
    Ok(Settings {
        part_size,
        parallel,
        state_dir,
    })
}

/// Run `vaultfront cp`.
pub fn run(args: &CpArgs) -> Result<(), CpError> {
    let copies = plan(args)?;
    let settings = settings(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| CpError::Transport(format!("async runtime: {err}")))?;
    runtime.block_on(async {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = &args.target.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(profile) = &args.target.profile {
            loader = loader.profile_name(profile);
        }
        let config = loader.load().await;
        let region = config.region().map(|r| r.to_string()).ok_or_else(|| {
            CpError::Usage(
                "no AWS region: pass --region, or set AWS_REGION or a profile's region".into(),
            )
        })?;
        let credentials = config
            .credentials_provider()
            .ok_or_else(|| CpError::Credentials("no credential provider".into()))?;
        let url = match &args.api_url {
            Some(url) => url.clone(),
            None => invoke_url(&config, args).await?,
        };
        let api = Api::new(&url, &region, credentials)?;
        for copy in copies {
            match copy {
                Copy::Up { file, key } => upload::upload(&api, &file, &key, &settings).await?,
                Copy::Down { key, file } => {
                    download::download(&api, &key, &file, &settings).await?
                }
            }
        }
        Ok(())
    })
}

/// The stack's `ApiInvokeUrl` output.
async fn invoke_url(config: &aws_config::SdkConfig, args: &CpArgs) -> Result<String, CpError> {
    let stack = args.target.stack_name.clone().ok_or_else(|| {
        CpError::Usage(
            "name the API: --stack-name NAME (its ApiInvokeUrl output) or --api-url URL".into(),
        )
    })?;
    let client = aws_sdk_cloudformation::Client::new(config);
    let described = client
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .map_err(|err| {
            CpError::Transport(format!(
                "reading stack {stack}'s outputs: {}",
                aws_sdk_cloudformation::error::DisplayErrorContext(&err)
            ))
        })?;
    described
        .stacks()
        .first()
        .and_then(|s| {
            s.outputs()
                .iter()
                .find(|o| o.output_key() == Some("ApiInvokeUrl"))
        })
        .and_then(|o| o.output_value())
        .map(str::to_owned)
        .ok_or_else(|| CpError::Usage(format!("stack {stack} has no ApiInvokeUrl output")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(source: &str, destination: &str, recursive: bool) -> CpArgs {
        CpArgs {
            source: source.into(),
            destination: destination.into(),
            recursive,
            ..CpArgs::default()
        }
    }

    #[test]
    fn a_file_goes_to_its_key_or_under_a_prefix() {
        let dir = std::env::temp_dir().join(format!("vaultfront-cp-plan-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.txt"), b"a").unwrap();
        std::fs::write(dir.join("sub/b.txt"), b"b").unwrap();
        let file = dir.join("a.txt").display().to_string();
        assert_eq!(
            plan(&args(&file, "s3api://x/y.txt", false)).unwrap(),
            [Copy::Up {
                file: dir.join("a.txt"),
                key: "x/y.txt".into()
            }]
        );
        assert_eq!(
            plan(&args(&file, "s3api://x/", false)).unwrap(),
            [Copy::Up {
                file: dir.join("a.txt"),
                key: "x/a.txt".into()
            }]
        );
        let root = dir.display().to_string();
        assert!(
            matches!(plan(&args(&root, "s3api://d", false)), Err(CpError::Usage(m)) if m.contains("-r"))
        );
        assert_eq!(
            plan(&args(&root, "s3api://d", true)).unwrap(),
            [
                Copy::Up {
                    file: dir.join("a.txt"),
                    key: "d/a.txt".into()
                },
                Copy::Up {
                    file: dir.join("sub/b.txt"),
                    key: "d/sub/b.txt".into()
                },
            ]
        );
        assert!(matches!(
            plan(&args("s3api://d/", &root, false)),
            Err(CpError::Usage(_))
        ));
        assert!(
            matches!(plan(&args("s3api://d/k", &root, true)), Err(CpError::Usage(m)) if m.contains("listing"))
        );
        assert_eq!(
            plan(&args("s3api://d/k.bin", &root, false)).unwrap(),
            [Copy::Down {
                key: "d/k.bin".into(),
                file: dir.join("k.bin")
            }]
        );
        assert!(matches!(
            plan(&args(&file, &root, false)),
            Err(CpError::Usage(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn part_sizes_fit_s3_and_api_gateway() {
        let mut a = args("a", "s3api://b", false);
        assert_eq!(settings(&a).unwrap().part_size, DEFAULT_PART_SIZE);
        a.part_size_mib = Some(4);
        assert!(settings(&a).is_err(), "under S3's 5 MiB");
        a.part_size_mib = Some(10);
        assert!(settings(&a).is_err(), "10 MiB is over API Gateway's 10 MB");
        a.part_size_mib = Some(9);
        assert_eq!(settings(&a).unwrap().part_size, 9 * 1024 * 1024);
    }

    #[test]
    fn errors_say_what_403_and_404_mean_here() {
        let reply = |status| Reply {
            status,
            headers: Default::default(),
            body: Default::default(),
        };
        let forbidden = check(&reply(403), "GET", "k").unwrap_err().to_string();
        assert!(
            forbidden.contains("does not exist") && forbidden.contains("ApiMethods"),
            "{forbidden}"
        );
        assert!(check(&reply(404), "GET", "k")
            .unwrap_err()
            .to_string()
            .contains("no such key"));
        let body = bytes::Bytes::from_static(b"<Error><Code>EntityTooLarge</Code></Error>");
        let refused = check(
            &Reply {
                status: 400,
                headers: Default::default(),
                body,
            },
            "PUT",
            "k",
        );
        assert!(refused.unwrap_err().to_string().contains("EntityTooLarge"));
        assert!(check(&reply(206), "GET", "k").is_ok());
    }
}
