//! Reading `samconfig.toml`, the file `sam build` and `sam deploy` take
//! their defaults from, so that the preflight checks the very parameters
//! `sam deploy` would send.
//!
//! SAM config files use a small part of TOML: `[env.command.parameters]`
//! tables whose keys hold strings, booleans, numbers or flat arrays. That
//! part is parsed here by hand (no TOML crate: see Cargo.toml); anything
//! else is an error that names the line, never a silent misreading.

use std::collections::BTreeMap;
use std::path::Path;

/// A value in a SAM config table.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Bool(bool),
    /// Kept as written: SAM config numbers are only ever passed on.
    Number(String),
    Array(Vec<Value>),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{path}:{line}: {message}")]
pub struct SamConfigError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

/// The tables of a SAM config file, by their dotted name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SamConfig {
    tables: BTreeMap<String, BTreeMap<String, Value>>,
}

impl SamConfig {
    pub fn read(path: &Path) -> Result<SamConfig, SamConfigError> {
        let text = std::fs::read_to_string(path).map_err(|err| SamConfigError {
            path: path.display().to_string(),
            line: 0,
            message: format!("cannot read it: {err}"),
        })?;
        SamConfig::parse(&text).map_err(|(line, message)| SamConfigError {
            path: path.display().to_string(),
            line,
            message,
        })
    }

    /// Parse the text of a SAM config file; an error carries its line number.
    pub fn parse(text: &str) -> Result<SamConfig, (usize, String)> {
        let mut config = SamConfig::default();
        let mut table = String::new();
        for (index, raw) in text.lines().enumerate() {
            let line_number = index + 1;
            let line = strip_comment(raw).trim();
            if line.is_empty() {
                continue;
            }
            if let Some(header) = line.strip_prefix('[') {
                let name = header
                    .strip_suffix(']')
                    .filter(|name| !name.starts_with('['))
                    .ok_or((
                        line_number,
                        format!("`{line}` is not a [table] header (arrays of tables are not used by SAM)"),
                    ))?;
                table = name.trim().to_owned();
                config.tables.entry(table.clone()).or_default();
                continue;
            }
            let (key, value) = line.split_once('=').ok_or((
                line_number,
                format!("`{line}` is neither a [table] nor a key = value line"),
            ))?;
            let key = key.trim().trim_matches('"').to_owned();
            if key.is_empty() {
                return Err((line_number, "a key is empty".to_owned()));
            }
            let value = parse_value(value.trim()).map_err(|message| (line_number, message))?;
            config
                .tables
                .entry(table.clone())
                .or_default()
                .insert(key, value);
        }
        Ok(config)
    }

    /// A parameter of `command` in config environment `env`, falling back
    /// to the environment's `global` table, as SAM does.
    pub fn get(&self, env: &str, command: &str, key: &str) -> Option<&Value> {
        [command, "global"].iter().find_map(|section| {
            self.tables
                .get(&format!("{env}.{section}.parameters"))
                .and_then(|table| table.get(key))
        })
    }

    pub fn get_str(&self, env: &str, command: &str, key: &str) -> Option<&str> {
        self.get(env, command, key).and_then(Value::as_str)
    }
}

/// Drop a `#` comment, but not a `#` inside a quoted string.
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (at, c) in line.char_indices() {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' => return &line[..at],
            None => {}
        }
    }
    line
}

fn parse_value(text: &str) -> Result<Value, String> {
    let (value, rest) = parse_one(text)?;
    if !rest.trim().is_empty() {
        return Err(format!("unexpected `{}` after the value", rest.trim()));
    }
    Ok(value)
}

/// One value from the start of `text`, and what follows it.
fn parse_one(text: &str) -> Result<(Value, &str), String> {
    let text = text.trim_start();
    if let Some(rest) = text.strip_prefix('"') {
        return parse_basic_string(rest).map(|(s, rest)| (Value::String(s), rest));
    }
    if let Some(rest) = text.strip_prefix('\'') {
        let end = rest
            .find('\'')
            .ok_or("a 'literal string' is not closed on its line")?;
        return Ok((Value::String(rest[..end].to_owned()), &rest[end + 1..]));
    }
    if let Some(mut rest) = text.strip_prefix('[') {
        let mut items = Vec::new();
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix(']') {
                return Ok((Value::Array(items), after));
            }
            let (item, after) = parse_one(rest)?;
            items.push(item);
            rest = after.trim_start();
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else if !rest.starts_with(']') {
                return Err("an array must be written on one line, as [\"a\", \"b\"]".to_owned());
            }
        }
    }
    let end = text.find([',', ']']).unwrap_or(text.len());
    let (word, rest) = text.split_at(end);
    let word = word.trim();
    match word {
        "true" => Ok((Value::Bool(true), rest)),
        "false" => Ok((Value::Bool(false), rest)),
        _ if !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_digit() || "+-._eE".contains(c)) =>
        {
            Ok((Value::Number(word.to_owned()), rest))
        }
        _ => Err(format!(
            "`{word}` is not a value SAM config uses (a \"string\", true/false, a number or an array)"
        )),
    }
}

/// The rest of a `"basic string"` after its opening quote.
fn parse_basic_string(text: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &text[at + 1..])),
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                other => {
                    return Err(format!(
                        "unsupported escape `\\{}` in a string",
                        other.map(String::from).unwrap_or_default()
                    ))
                }
            },
            c => out.push(c),
        }
    }
    Err("a \"string\" is not closed on its line".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shapes_sam_writes() {
        let config = SamConfig::parse(
            r#"
            version = 0.1
            [default.global.parameters]
            stack_name = "vaultfront" # trailing comment
            [default.deploy.parameters]
            capabilities = "CAPABILITY_IAM"
            resolve_s3 = true
            parameter_overrides = "A=\"1\" B=\"x # not a comment\""
            tags = ['a', "b"]
            "#,
        )
        .unwrap();
        assert_eq!(
            config.get_str("default", "deploy", "stack_name"),
            Some("vaultfront")
        );
        assert_eq!(
            config.get_str("default", "deploy", "parameter_overrides"),
            Some(r#"A="1" B="x # not a comment""#)
        );
        assert_eq!(
            config.get("default", "deploy", "resolve_s3"),
            Some(&Value::Bool(true))
        );
        assert_eq!(
            config.get("default", "deploy", "tags"),
            Some(&Value::Array(vec![
                Value::String("a".into()),
                Value::String("b".into())
            ]))
        );
        assert_eq!(config.get("default", "build", "capabilities"), None);
        assert_eq!(config.get("prod", "deploy", "stack_name"), None);
    }

    #[test]
    fn the_command_table_wins_over_global() {
        let config = SamConfig::parse(
            "[default.global.parameters]\nregion = \"eu-west-1\"\n[default.deploy.parameters]\nregion = \"us-east-1\"\n",
        )
        .unwrap();
        assert_eq!(
            config.get_str("default", "deploy", "region"),
            Some("us-east-1")
        );
        assert_eq!(
            config.get_str("default", "delete", "region"),
            Some("eu-west-1")
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(SamConfig::parse("[a]\nkey = \"open\n").unwrap_err().0, 2);
        let (line, message) = SamConfig::parse("\n\nstack_name vaultfront\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("key = value"), "{message}");
        let (_, message) = SamConfig::parse("[[a]]\n").unwrap_err();
        assert!(message.contains("arrays of tables"), "{message}");
        let (_, message) = SamConfig::parse("k = bare\n").unwrap_err();
        assert!(message.contains("`bare`"), "{message}");
    }

    #[test]
    fn the_project_samconfig_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samconfig.toml");
        let config = SamConfig::read(&path).unwrap();
        assert_eq!(
            config.get_str("default", "deploy", "stack_name"),
            Some("vaultfront")
        );
        assert_eq!(
            config.get_str("default", "build", "template_file"),
            Some("infra/template.yaml")
        );
        assert!(config
            .get_str("default", "deploy", "parameter_overrides")
            .is_some_and(|p| p.contains("RetentionMode=")));
    }
}
