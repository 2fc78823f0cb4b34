//! With CdnAccess=signed, every cache behaviour of the distribution trusts
//! a key group that holds the stack's public keys (CdnKeyPairId, and
//! CdnKeyPairId2 during a rotation): without one, CloudFront serves any
//! object to anyone who knows its URL.

use aws_sdk_cloudfront::types::{DistributionConfig, TrustedKeyGroups};

use super::checks::{guarantee, not_applicable, CDN_SIGNED};
use super::{Facts, Guarantee};
use crate::local::{sdk_text, Clients};

pub async fn check(clients: &Clients, facts: &Facts, config: &DistributionConfig) -> Guarantee {
    if facts.cdn_access == "public" {
        return not_applicable(
            CDN_SIGNED,
            "CdnAccess=public: every object is readable by anyone who has its URL, by choice",
        );
    }
    if facts.key_pair_ids.is_empty() {
        return guarantee(
            CDN_SIGNED,
            Err("the stack has no CdnKeyPairId output: no key signs for it".into()),
        );
    }
    let mut behaviours: Vec<(String, Option<&TrustedKeyGroups>)> = Vec::new();
    if let Some(default) = config.default_cache_behavior() {
        behaviours.push(("default".into(), default.trusted_key_groups()));
    }
    for extra in config
        .cache_behaviors()
        .map(|c| c.items())
        .unwrap_or_default()
    {
        behaviours.push((extra.path_pattern().to_owned(), extra.trusted_key_groups()));
    }
    let mut evidence = Vec::new();
    let mut failures = Vec::new();
    for (name, trusted) in behaviours {
        let groups: Vec<String> = trusted
            .filter(|t| t.enabled())
            .map(|t| t.items().to_vec())
            .unwrap_or_default();
        if groups.is_empty() {
            failures.push(format!(
                "{name}: trusts no key group (unsigned requests are served)"
            ));
            continue;
        }
        let mut holds_ours = None;
        for group in &groups {
            match clients.cloudfront.get_key_group().id(group).send().await {
                Ok(found) => {
                    let keys = found
                        .key_group()
                        .and_then(|g| g.key_group_config())
                        .map(|c| c.items().to_vec())
                        .unwrap_or_default();
                    if facts.key_pair_ids.iter().all(|id| keys.contains(id)) {
                        holds_ours = Some(group.clone());
                    }
                }
                Err(e) => failures.push(format!("{name}: GetKeyGroup {group}: {}", sdk_text(&e))),
            }
        }
        match holds_ours {
            Some(group) => evidence.push(format!(
                "{name}: key group {group} with key {}",
                facts.key_pair_ids.join(" and ")
            )),
            None => failures.push(format!(
                "{name}: no trusted key group holds the stack's key {}",
                facts.key_pair_ids.join(" and ")
            )),
        }
    }
    if failures.is_empty() {
        guarantee(CDN_SIGNED, Ok(evidence.join(", ")))
    } else {
        guarantee(CDN_SIGNED, Err(failures.join("; ")))
    }
}
