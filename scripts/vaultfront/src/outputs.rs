//! The stack's outputs, as `sam list stack-outputs --output json` prints them.

use crate::tools::Tools;
use serde_json::Value;
use std::process::Command;

/// `sam list stack-outputs` for `stack`, printing JSON; `account` is the
/// region/profile arguments.
pub fn list_command(tools: &Tools, stack: &str, account: &[String]) -> Command {
    let mut list = tools.command("sam");
    list.args([
        "list",
        "stack-outputs",
        "--stack-name",
        stack,
        "--output",
        "json",
    ])
    .args(account);
    list
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub key: String,
    pub value: String,
    pub description: String,
}

/// Parse sam's JSON: `[{"OutputKey": .., "OutputValue": .., "Description": ..}]`.
pub fn parse(text: &str) -> Result<Vec<Output>, String> {
    // sam may print notices before the document; the document is the array.
    let start = text
        .find('[')
        .ok_or_else(|| format!("no JSON array in sam's output: {}", text.trim()))?;
    let value: Value = serde_json::from_str(&text[start..]).map_err(|err| {
        format!(
            "sam's output is not the JSON expected ({err}): {}",
            text.trim()
        )
    })?;
    let items = value
        .as_array()
        .ok_or_else(|| "sam's output is not a JSON array".to_owned())?;
    items
        .iter()
        .map(|item| {
            let field = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_owned);
            Ok(Output {
                key: field("OutputKey")
                    .ok_or_else(|| format!("an output without OutputKey: {item}"))?,
                value: field("OutputValue").unwrap_or_default(),
                description: field("Description").unwrap_or_default(),
            })
        })
        .collect()
}

pub fn value<'a>(outputs: &'a [Output], key: &str) -> Option<&'a str> {
    outputs
        .iter()
        .find(|o| o.key == key)
        .map(|o| o.value.as_str())
}

/// Two aligned columns.
pub fn table(outputs: &[Output]) -> String {
    let width = outputs.iter().map(|o| o.key.len()).max().unwrap_or(0);
    outputs
        .iter()
        .map(|o| format!("  {:width$}  {}\n", o.key, o.value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sams_json_and_tolerates_a_preamble() {
        let text = r#"Some notice
[
  {"OutputKey": "DataBucketName", "OutputValue": "vf-databucket-1", "Description": "The locked data bucket"},
  {"OutputKey": "CdnUrl", "OutputValue": "https://d1.cloudfront.net"}
]"#;
        let outputs = parse(text).unwrap();
        assert_eq!(outputs.len(), 2);
        assert_eq!(value(&outputs, "CdnUrl"), Some("https://d1.cloudfront.net"));
        assert_eq!(value(&outputs, "Missing"), None);
        assert_eq!(
            table(&outputs),
            "  DataBucketName  vf-databucket-1\n  CdnUrl          https://d1.cloudfront.net\n"
        );
    }

    #[test]
    fn bad_output_is_reported_not_panicked() {
        assert!(parse("Error: Stack does not exist")
            .unwrap_err()
            .contains("no JSON array"));
        assert!(parse("[1, 2").is_err());
        assert!(parse("[{\"OutputValue\": \"x\"}]")
            .unwrap_err()
            .contains("OutputKey"));
    }
}
