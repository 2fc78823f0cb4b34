//! Physical ids and the statement Sids derived from them.
//!
//! A bucket has one policy shared by everyone who writes to it, so a
//! statement's `Sid` is how this resource recognises its own: every Sid it
//! writes starts with [`Owner::base`], a hash of its physical id. Another
//! instance of this resource (another stack, another logical id, or the
//! replacement of this one) has another physical id and so other Sids.
//!
//! The hash is FNV-1a, written out here because the Sids must never change
//! between builds of this function: a Delete may be handled by a newer build
//! than the Create (std's `DefaultHasher` makes no such promise).

/// Every Sid any `Custom::OriginBucketPolicy` writes starts with this.
pub const MANAGED_SID_PREFIX: &str = "VaultfrontOrigin";

/// The physical id for a resource: `<bucket>/<logical id>-<hash>`. The hash
/// of the stack ARN and logical id tells apart stacks that use the same
/// logical id on one bucket; the bucket comes first so a Delete knows where
/// its statements are even when its properties no longer say.
pub fn physical_id(stack_id: &str, logical_id: &str, bucket: &str) -> String {
    let hash = fnv1a64(&[stack_id, logical_id]);
    format!("{bucket}/{logical_id}-{:012x}", hash >> 16)
}

/// The bucket a physical id made by [`physical_id`] names.
pub fn bucket_of(physical_id: &str) -> Option<&str> {
    physical_id
        .split_once('/')
        .map(|(bucket, _)| bucket)
        .filter(|bucket| !bucket.is_empty())
}

/// The Sids that belong to one physical id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    base: String,
}

impl Owner {
    pub fn new(physical_id: &str) -> Owner {
        Owner {
            base: format!("{MANAGED_SID_PREFIX}{:012X}", fnv1a64(&[physical_id]) >> 16),
        }
    }

    /// The prefix of every Sid this owner writes.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn owns(&self, sid: &str) -> bool {
        sid.starts_with(&self.base)
    }

    /// The read grant's Sid. `fingerprint` pins what the statement says, so a
    /// statement read back under this Sid is known to be the one written for
    /// exactly this grant, whatever form S3 renders its principal in.
    pub fn grant_sid(&self, fingerprint: u32) -> String {
        format!("{}Read{fingerprint:08X}", self.base)
    }

    pub fn tls_deny_sid(&self) -> String {
        format!("{}DenyInsecureTransport", self.base)
    }
}

/// Whether `sid` was written by some `Custom::OriginBucketPolicy` (this one or another).
pub fn is_managed(sid: &str) -> bool {
    sid.starts_with(MANAGED_SID_PREFIX)
}

/// The grant fingerprint: 32 bits of FNV-1a over the statement's content.
pub fn fingerprint(parts: &[&str]) -> u32 {
    let hash = fnv1a64(parts);
    // Fold rather than truncate, so every input bit counts.
    ((hash >> 32) ^ (hash & 0xFFFF_FFFF)) as u32
}

/// FNV-1a, 64 bits, over `parts` separated by a byte no UTF-8 text contains.
fn fnv1a64(parts: &[&str]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            hash ^= 0xFF;
            hash = hash.wrapping_mul(PRIME);
        }
        for byte in part.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    const STACK: &str =
        "arn:aws:cloudformation:us-east-1:123456789012:stack/vault/8a1b2c3d-0000-4000-8000-000000000001";

    #[test]
    fn fnv_matches_the_reference_vectors() {
        // From the FNV reference test suite (draft-eastlake-fnv).
        assert_eq!(fnv1a64(&[""]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(&["a"]), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(&["foobar"]), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn physical_ids_are_stable_and_tell_resources_apart() {
        let id = physical_id(STACK, "OriginPolicy", "data-bucket");
        // Pinned: a changed derivation would orphan every deployed statement.
        assert_eq!(id, "data-bucket/OriginPolicy-8923cc794521");
        assert_eq!(id, physical_id(STACK, "OriginPolicy", "data-bucket"));
        assert_ne!(id, physical_id(STACK, "OtherPolicy", "data-bucket"));
        let other_stack = STACK.replace("vault/", "vault2/");
        assert_ne!(id, physical_id(&other_stack, "OriginPolicy", "data-bucket"));
        assert_eq!(bucket_of(&id), Some("data-bucket"));
        assert_eq!(bucket_of("no-slash"), None);
        assert_eq!(bucket_of("/x"), None);
    }

    #[test]
    fn sids_are_derived_from_the_physical_id_and_only_its_own_match() {
        let old = Owner::new("data-bucket/OriginPolicy-8923cc794521");
        let new = Owner::new("other-bucket/OriginPolicy-8923cc794521");
        assert_eq!(old.base(), "VaultfrontOriginCB2789D569FF");
        assert_ne!(old.base(), new.base());
        let sid = old.grant_sid(fingerprint(&["x"]));
        assert!(old.owns(&sid) && !new.owns(&sid));
        assert!(old.owns(&old.tls_deny_sid()) && !new.owns(&old.tls_deny_sid()));
        assert!(is_managed(&sid) && is_managed(&new.tls_deny_sid()));
        assert!(!is_managed("AllowAnalytics"));
        // IAM's Sid alphabet: ASCII letters and digits only.
        for sid in [sid, old.tls_deny_sid()] {
            assert!(sid.bytes().all(|b| b.is_ascii_alphanumeric()), "{sid}");
        }
    }

    #[test]
    fn fingerprints_change_with_content() {
        assert_ne!(fingerprint(&["OAI", "E1"]), fingerprint(&["OAI", "E2"]));
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(fingerprint(&["OAI", "E1"]), fingerprint(&["OAI", "E1"]));
    }
}
