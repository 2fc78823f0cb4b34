//! Reading `samconfig.toml`, the file `sam build` and `sam deploy` take
//! their defaults from, so that the preflight checks the very parameters
//! `sam deploy` would send. A file that is not TOML is an error naming the
//! line, never a silent misreading.

use std::path::Path;

pub use toml::Value;

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{path}:{line}: {message}")]
pub struct SamConfigError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

/// The document: `[env.command.parameters]` tables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SamConfig {
    document: toml::Table,
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
        text.parse::<toml::Table>()
            .map(|document| SamConfig { document })
            .map_err(|err| {
                let line = err
                    .span()
                    .and_then(|span| text.get(..span.start))
                    .map(|before| before.matches('\n').count() + 1)
                    .unwrap_or(0);
                (line, err.message().trim().to_owned())
            })
    }

    /// A parameter of `command` in config environment `env`, falling back
    /// to the environment's `global` table, as SAM does.
    pub fn get(&self, env: &str, command: &str, key: &str) -> Option<&Value> {
        [command, "global"].iter().find_map(|section| {
            self.document
                .get(env)?
                .get(section)?
                .get("parameters")?
                .get(key)
        })
    }

    pub fn get_str(&self, env: &str, command: &str, key: &str) -> Option<&str> {
        self.get(env, command, key).and_then(Value::as_str)
    }
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
            Some(&Value::Boolean(true))
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
        assert!(!message.is_empty());
        assert_eq!(SamConfig::parse("k = bare\n").unwrap_err().0, 1);
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
