//! The stack's CloudFront signing key on the user's machine: made on the
//! first `signed` deploy (RSA 2048, PKCS#8 PEM, mode 0600), reused on every
//! deploy after, never printed and never logged; only its public half goes
//! to the stack (parameter CdnPublicKey). README, "Signed URLs and cookies".

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;

use crate::parameters::Parameters;
use crate::preflight::Environment;
use crate::signing::{self, SigningError};

/// The template's two key slots: the private key file of each in the key
/// directory, the parameter its public key goes to, and the output naming
/// its CloudFront id. Two, because CloudFront cannot change a public key in
/// place: a rotation fills the empty slot, then empties the old one.
pub const SLOT_FILES: [&str; 2] = ["cdn-private-key.pem", "cdn-private-key-2.pem"];
pub const SLOT_PARAMETERS: [&str; 2] = ["CdnPublicKey", "CdnPublicKey2"];
pub const SLOT_OUTPUTS: [&str; 2] = ["CdnKeyPairId", "CdnKeyPairId2"];

/// What a deploy does to the stack's keys besides keeping them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeyChange {
    #[default]
    Keep,
    /// Make a key in the free slot: both keys are trusted.
    Rotate,
    /// Stop trusting the older of two keys.
    Retire,
}

#[derive(Debug, thiserror::Error)]
pub enum CdnKeyError {
    #[error("cannot create the key directory {path}: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the private key {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the private key {path} can be read by others (mode {mode:o}); run chmod 600 {path} and deploy again")]
    Readable { path: PathBuf, mode: u32 },
    #[error(transparent)]
    Key(#[from] SigningError),
    #[error("aws-lc-rs could not {0}")]
    Crypto(&'static str),
    #[error("CdnPublicKey: {0}")]
    PublicKey(String),
    #[error("no home directory to keep the private key in: set HOME, XDG_CONFIG_HOME or VAULTFRONT_KEY_DIR")]
    NoHome,
    #[error("{0}")]
    Rotation(String),
}

/// Where a stack's key lives: `$VAULTFRONT_KEY_DIR`, else
/// `$XDG_CONFIG_HOME/vaultfront/keys`, else `~/.config/vaultfront/keys`;
/// then `<region>/<stack>`. Outside any checkout, so never committed.
pub fn aws_key_dir(env: &Environment, region: &str, stack: &str) -> Result<PathBuf, CdnKeyError> {
    let root = match (
        env.get("VAULTFRONT_KEY_DIR"),
        env.get("XDG_CONFIG_HOME"),
        env.get("HOME"),
    ) {
        (Some(dir), _, _) if !dir.is_empty() => PathBuf::from(dir),
        (_, Some(config), _) if !config.is_empty() => Path::new(config).join("vaultfront/keys"),
        (_, _, Some(home)) if !home.is_empty() => Path::new(home).join(".config/vaultfront/keys"),
        _ => return Err(CdnKeyError::NoHome),
    };
    Ok(root.join(region).join(stack))
}

/// The private key found or made, and the public key to give the stack.
pub struct StackKey {
    pub path: PathBuf,
    /// True when this run made the key.
    pub created: bool,
    /// The CdnPublicKey value: the PEM body, lines joined by spaces.
    pub public_key: String,
}

/// The key of `slot` in `dir`, made there (0600, in a 0700 directory) if
/// absent.
pub fn ensure(dir: &Path, slot: usize) -> Result<StackKey, CdnKeyError> {
    let path = dir.join(SLOT_FILES[slot]);
    if path.exists() {
        let mode = std::fs::metadata(&path)
            .map_err(|source| CdnKeyError::Write {
                path: path.clone(),
                source,
            })?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(CdnKeyError::Readable { path, mode });
        }
        let text = std::fs::read(&path).map_err(|source| SigningError::Read {
            path: path.clone(),
            source,
        })?;
        let key = signing::private_key_from_pem(&path, &text)?;
        return Ok(StackKey {
            public_key: public_key_body(&key)?,
            path,
            created: false,
        });
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| CdnKeyError::Directory {
            path: dir.to_owned(),
            source,
        })?;
    let key = KeyPair::generate(KeySize::Rsa2048)
        .map_err(|_| CdnKeyError::Crypto("generate an RSA key"))?;
    let der: Pkcs8V1Der<'static> = key
        .as_der()
        .map_err(|_| CdnKeyError::Crypto("encode the private key"))?;
    let text = pem::encode_config(
        &pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    );
    // create_new with 0600: the key is never, even briefly, readable by
    // others, and an existing file is never overwritten.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|source| CdnKeyError::Write {
            path: path.clone(),
            source,
        })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|source| CdnKeyError::Write {
            path: path.clone(),
            source,
        })?;
    Ok(StackKey {
        public_key: public_key_body(&key)?,
        path,
        created: true,
    })
}

/// How the stack gets its public keys this run.
pub enum Provided {
    /// CdnAccess=public: no key at all.
    NotNeeded,
    /// The user passed CdnPublicKey/CdnPublicKey2; they sign with their own
    /// private key.
    Given,
    /// The keys in the key directory, by slot, made now or found; and the
    /// file a retirement moved aside.
    Kept {
        keys: Vec<(usize, StackKey)>,
        retired: Option<PathBuf>,
    },
}

/// The slots that hold a key file in `dir`, oldest first (by the time the
/// file was last modified, which is when it was made: nothing rewrites it).
pub fn slots_in(dir: &Path) -> Vec<usize> {
    let mut found: Vec<(std::time::SystemTime, usize)> = (0..SLOT_FILES.len())
        .filter_map(|slot| {
            let modified = std::fs::metadata(dir.join(SLOT_FILES[slot]))
                .and_then(|m| m.modified())
                .ok()?;
            Some((modified, slot))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, slot)| slot).collect()
}

/// The newest key file in `dir` whose slot the stack trusts (after
/// --rotate-cdn-key, the new one), with the stack's id for it.
pub fn newest_trusted(dir: &Path, key_pair_ids: &[String; 2]) -> Option<(PathBuf, String)> {
    slots_in(dir)
        .into_iter()
        .rev()
        .find(|&slot| !key_pair_ids[slot].is_empty())
        .map(|slot| (dir.join(SLOT_FILES[slot]), key_pair_ids[slot].clone()))
}

/// With CdnAccess=signed and no public key given: the keys in `dir()`
/// become CdnPublicKey/CdnPublicKey2 (a first key made if there is none),
/// after the rotation or retirement asked for.
pub fn provide(
    parameters: &mut Parameters,
    change: KeyChange,
    dir: impl FnOnce() -> Result<PathBuf, CdnKeyError>,
) -> Result<Provided, CdnKeyError> {
    let given = SLOT_PARAMETERS
        .iter()
        .any(|name| !parameters.get(name).is_empty());
    if parameters.get("CdnAccess") != "signed" || given {
        if change != KeyChange::Keep {
            return Err(CdnKeyError::Rotation(
                "--rotate-cdn-key and --retire-cdn-key manage the keys scripts/deploy made; \
                 they need CdnAccess=signed and no CdnPublicKey/CdnPublicKey2 given"
                    .into(),
            ));
        }
        return Ok(if given {
            Provided::Given
        } else {
            Provided::NotNeeded
        });
    }
    let dir = dir()?;
    let mut slots = slots_in(&dir);
    let mut retired = None;
    match (change, slots.as_slice()) {
        (KeyChange::Keep, []) => slots.push(0),
        (KeyChange::Keep, _) => {}
        (KeyChange::Rotate, [only]) => slots.push(1 - only),
        (KeyChange::Rotate, _) => {
            return Err(CdnKeyError::Rotation(format!(
                "--rotate-cdn-key adds a second key beside the one in use, and {} holds {}: \
                 deploy once first, or --retire-cdn-key the older of two",
                dir.display(),
                if slots.is_empty() { "none" } else { "two" }
            )))
        }
        (KeyChange::Retire, [older, _]) => {
            let older = *older;
            let from = dir.join(SLOT_FILES[older]);
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            let to = dir.join(format!("retired-{stamp}-{}", SLOT_FILES[older]));
            std::fs::rename(&from, &to).map_err(|source| CdnKeyError::Write {
                path: from.clone(),
                source,
            })?;
            slots.retain(|&slot| slot != older);
            retired = Some(to);
        }
        (KeyChange::Retire, _) => {
            return Err(CdnKeyError::Rotation(format!(
                "--retire-cdn-key stops trusting the older of two keys, and {} holds {}: \
                 --rotate-cdn-key first",
                dir.display(),
                if slots.is_empty() { "none" } else { "one" }
            )))
        }
    }
    let mut keys = Vec::new();
    for slot in slots {
        let key = ensure(&dir, slot)?;
        parameters.apply(&[(SLOT_PARAMETERS[slot].to_owned(), key.public_key.clone())]);
        keys.push((slot, key));
    }
    Ok(Provided::Kept { keys, retired })
}

impl Provided {
    /// The preflight's lines about CloudFront access; never a key itself.
    pub fn describe(&self) -> String {
        match self {
            Provided::NotNeeded => "  CDN access   public: every object is readable by anyone who has its URL".into(),
            Provided::Given => "  CDN access   signed URLs and cookies only, with the public key(s) given (sign with the private key: vaultfront url --private-key FILE)".into(),
            Provided::Kept { keys, retired } => {
                let mut lines = vec!["  CDN access   signed URLs and cookies only (scripts/deploy --url KEY makes one)".to_owned()];
                for (slot, key) in keys {
                    lines.push(format!(
                        "  signing key  {} ({}, {}; mode 0600, keep it private: it opens every object)",
                        key.path.display(),
                        SLOT_PARAMETERS[*slot],
                        if key.created { "made now" } else { "reused" }
                    ));
                }
                if let Some(path) = retired {
                    lines.push(format!(
                        "  retired key  {} (no longer trusted once this deploy completes; delete it then)",
                        path.display()
                    ));
                }
                lines.join("\n")
            }
        }
    }
}

/// The SubjectPublicKeyInfo PEM body of `key`, its lines joined by spaces.
fn public_key_body(key: &KeyPair) -> Result<String, CdnKeyError> {
    let der: PublicKeyX509Der<'static> = key
        .public_key()
        .as_der()
        .map_err(|_| CdnKeyError::Crypto("encode the public key"))?;
    Ok(pem_body(&pem::Pem::new(
        "PUBLIC KEY",
        der.as_ref().to_vec(),
    )))
}

fn pem_body(block: &pem::Pem) -> String {
    pem::encode_config(
        block,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
    .lines()
    .filter(|line| !line.starts_with("-----"))
    .collect::<Vec<_>>()
    .join(" ")
}

/// A CdnPublicKey given by the user, as a PEM (`-----BEGIN PUBLIC KEY-----`
/// with its lines) or already as the body: the body the template takes.
pub fn normalize_public_key(value: &str) -> Result<String, CdnKeyError> {
    if !value.contains("-----BEGIN") {
        return Ok(value.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    let block = pem::parse(value.trim())
        .map_err(|err| CdnKeyError::PublicKey(format!("not a PEM block ({err})")))?;
    if block.tag() != "PUBLIC KEY" {
        return Err(CdnKeyError::PublicKey(format!(
            "the PEM block is `{}`; give the public key (-----BEGIN PUBLIC KEY-----, from openssl pkey -pubout), never the private key",
            block.tag()
        )));
    }
    Ok(pem_body(&block))
}

/// What the template's AllowedPattern takes: empty, or base64 words
/// separated by single spaces.
pub fn is_public_key_body_or_empty(value: &str) -> bool {
    value.is_empty()
        || value.split(' ').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("vaultfront-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn made_once_at_0600_then_reused() {
        let dir = scratch("cdn-key");
        let first = ensure(&dir.join("eu-west-1/data"), 0).unwrap();
        assert!(first.created);
        let mode = std::fs::metadata(&first.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(first.path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert!(is_public_key_body_or_empty(&first.public_key));
        assert!(first
            .public_key
            .starts_with("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"));
        let second = ensure(&dir.join("eu-west-1/data"), 0).unwrap();
        assert!(!second.created);
        assert_eq!(second.public_key, first.public_key);

        std::fs::set_permissions(&first.path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = ensure(&dir.join("eu-west-1/data"), 0)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("chmod 600"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_pem_public_key_becomes_the_body_and_a_private_key_is_refused() {
        let dir = scratch("cdn-key-pem");
        let key = ensure(&dir, 0).unwrap();
        let pem_text = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            key.public_key.replace(' ', "\n")
        );
        assert_eq!(normalize_public_key(&pem_text).unwrap(), key.public_key);
        assert_eq!(
            normalize_public_key(&key.public_key.replace(' ', "\n")).unwrap(),
            key.public_key
        );
        let private = std::fs::read_to_string(&key.path).unwrap();
        let err = normalize_public_key(&private).unwrap_err().to_string();
        assert!(err.contains("never the private key"), "{err}");
        assert!(!is_public_key_body_or_empty("-----BEGIN PUBLIC KEY-----"));
        assert!(!is_public_key_body_or_empty("abc  def"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rotation_fills_the_free_slot_then_retires_the_older() {
        let dir = scratch("cdn-key-rotate");
        let mut parameters = Parameters::defaults();
        let first = provide(&mut parameters, KeyChange::Keep, || Ok(dir.clone())).unwrap();
        let Provided::Kept { keys, .. } = first else {
            panic!("no key kept");
        };
        assert_eq!(keys.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [0]);
        let one = parameters.get("CdnPublicKey").to_owned();
        assert!(!one.is_empty() && parameters.get("CdnPublicKey2").is_empty());
        assert!(
            provide(&mut Parameters::defaults(), KeyChange::Retire, || Ok(
                dir.clone()
            ))
            .is_err()
        );

        // Rotate: slot 2 made, slot 1 kept; both trusted.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut parameters = Parameters::defaults();
        provide(&mut parameters, KeyChange::Rotate, || Ok(dir.clone())).unwrap();
        assert_eq!(parameters.get("CdnPublicKey"), one);
        let two = parameters.get("CdnPublicKey2").to_owned();
        assert!(!two.is_empty() && two != one);
        assert_eq!(slots_in(&dir), [0, 1]);
        assert!(
            provide(&mut Parameters::defaults(), KeyChange::Rotate, || Ok(
                dir.clone()
            ))
            .is_err()
        );

        // Retire: slot 1 (the older) emptied, its file moved aside.
        let mut parameters = Parameters::defaults();
        let Provided::Kept { retired, .. } =
            provide(&mut parameters, KeyChange::Retire, || Ok(dir.clone())).unwrap()
        else {
            panic!("no key kept");
        };
        assert!(parameters.get("CdnPublicKey").is_empty());
        assert_eq!(parameters.get("CdnPublicKey2"), two);
        assert!(retired.unwrap().exists());
        assert_eq!(slots_in(&dir), [1]);

        // The next rotation fills slot 1 again.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut parameters = Parameters::defaults();
        provide(&mut parameters, KeyChange::Rotate, || Ok(dir.clone())).unwrap();
        assert_eq!(slots_in(&dir), [1, 0]);
        assert_eq!(parameters.get("CdnPublicKey2"), two);

        // A public stack or a key given by hand: no key files touched.
        let mut public = Parameters::defaults();
        public.apply(&[("CdnAccess".into(), "public".into())]);
        assert!(matches!(
            provide(&mut public, KeyChange::Keep, || Ok(dir.clone())).unwrap(),
            Provided::NotNeeded
        ));
        assert!(provide(&mut public, KeyChange::Rotate, || Ok(dir.clone())).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_key_directory_is_outside_the_checkout() {
        let env = Environment::from_pairs([("HOME", "/home/u")]);
        assert_eq!(
            aws_key_dir(&env, "eu-west-1", "data").unwrap(),
            Path::new("/home/u/.config/vaultfront/keys/eu-west-1/data")
        );
        let env = Environment::from_pairs([("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/cfg")]);
        assert_eq!(
            aws_key_dir(&env, "eu-west-1", "data").unwrap(),
            Path::new("/cfg/vaultfront/keys/eu-west-1/data")
        );
        let env = Environment::from_pairs([("VAULTFRONT_KEY_DIR", "/k"), ("HOME", "/home/u")]);
        assert_eq!(
            aws_key_dir(&env, "us-east-1", "s").unwrap(),
            Path::new("/k/us-east-1/s")
        );
        assert!(aws_key_dir(&Environment::from_pairs([("X", "y")]), "r", "s").is_err());
    }
}
