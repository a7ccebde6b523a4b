//! `${NAME}` in board-file paths, replaced from the environment: the one implementation
//! every board kind and the probe section use.

/// Why a `${…}` could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error("environment variable `{0}` is not set")]
    Unset(String),
    #[error("`${{` without a closing `}}`")]
    Unclosed,
}

/// Replaces each `${NAME}` in `text` with `env(NAME)`. No other syntax: a lone `$` is
/// kept as is.
pub fn expand_env(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, EnvError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or(EnvError::Unclosed)?;
        let name = &after[..end];
        let value = env(name).ok_or_else(|| EnvError::Unset(name.to_string()))?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The process environment, as [`expand_env`] takes it.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_expansion() {
        let env = |name: &str| (name == "FW").then(|| "/opt/fw".to_string());
        assert_eq!(expand_env("${FW}/a.hex", &env).unwrap(), "/opt/fw/a.hex");
        assert_eq!(expand_env("a$b${FW}", &env).unwrap(), "a$b/opt/fw");
        assert_eq!(expand_env("plain", &env).unwrap(), "plain");
        assert_eq!(
            expand_env("${NOPE}/a", &env),
            Err(EnvError::Unset("NOPE".into()))
        );
        assert_eq!(expand_env("${FW", &env), Err(EnvError::Unclosed));
    }
}
