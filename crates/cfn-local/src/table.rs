//! Progress per resource, in the columns `sam deploy` prints.

pub fn header() {
    println!(
        "{:<28} {:<36} {:<28} ResourceStatusReason",
        "ResourceStatus", "ResourceType", "LogicalResourceId"
    );
    println!("{}", "-".repeat(120));
}

pub fn event(status: &str, kind: &str, logical_id: &str, reason: &str) {
    let reason = if reason.is_empty() { "-" } else { reason };
    println!("{status:<28} {kind:<36} {logical_id:<28} {reason}");
}
