//! S3's naming rules for general purpose buckets, once for every handler:
//! a typo fails with the rule it breaks, before any call, rather than with
//! S3's generic error after one.

/// What is wrong with `name` as a bucket name, or `None` when nothing is.
pub fn problem(name: &str) -> Option<&'static str> {
    let edge = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !(3..=63).contains(&name.len()) {
        Some("it must be 3 to 63 characters long")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        Some("only lower-case letters, digits, dots and hyphens are allowed")
    } else if !name.starts_with(edge) || !name.ends_with(edge) {
        Some("it must begin and end with a letter or digit")
    } else if name.contains("..") || name.contains(".-") || name.contains("-.") {
        Some("it must not have a dot next to another dot or a hyphen")
    } else if name.split('.').count() == 4 && name.split('.').all(|part| part.parse::<u8>().is_ok())
    {
        Some("it must not look like an IP address")
    } else if name.starts_with("xn--") || name.starts_with("sthree-") {
        Some("it must not start with the reserved prefixes xn-- or sthree-")
    } else if name.ends_with("-s3alias") || name.ends_with("--ol-s3") {
        Some("it must not end with the reserved suffixes -s3alias or --ol-s3")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn s3s_rules() {
        for good in ["abc", "data.bucket-1", "a1b", &"a".repeat(63)] {
            assert_eq!(problem(good), None, "{good}");
        }
        for (bad, rule) in [
            ("ab", "3 to 63"),
            (&"a".repeat(64), "3 to 63"),
            ("Data", "lower-case"),
            ("data_set", "lower-case"),
            ("-data", "begin and end"),
            ("data.", "begin and end"),
            ("da..ta", "dot next to"),
            ("da.-ta", "dot next to"),
            ("192.168.5.4", "IP address"),
            ("xn--data", "reserved prefixes"),
            ("sthree-data", "reserved prefixes"),
            ("data-s3alias", "reserved suffixes"),
            ("data--ol-s3", "reserved suffixes"),
        ] {
            assert!(
                problem(bad).is_some_and(|why| why.contains(rule)),
                "{bad}: {:?}",
                problem(bad)
            );
        }
    }
}
