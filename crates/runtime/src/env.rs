//! Typed reading of settings from environment variables. Every error names the variable, and secret
//! values are wrapped in [`SecretString`] so they never reach a log line or a `Debug` print.

use std::collections::HashMap;
use std::str::FromStr;

use base64::Engine;
use secrecy::SecretString;

/// A setting that is missing or cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("{name} is not set; {hint}")]
    Missing { name: String, hint: &'static str },
    #[error("{name} is invalid: {reason}")]
    Invalid { name: String, reason: String },
}

/// A snapshot of the variables a service reads. Tests and the standalone mode build one from a map
/// instead of touching the process environment.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// The process environment.
    pub fn from_process() -> Self {
        Self { vars: std::env::vars().collect() }
    }

    /// Explicit variables (tests, standalone mode).
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    fn raw(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.trim().is_empty())
    }

    /// A variable that must be set.
    pub fn required(&self, name: &str, hint: &'static str) -> Result<String, EnvError> {
        self.raw(name).map(str::to_owned).ok_or_else(|| EnvError::Missing { name: name.to_owned(), hint })
    }

    /// A variable with a default.
    pub fn or(&self, name: &str, default: &str) -> String {
        self.raw(name).unwrap_or(default).to_owned()
    }

    /// An optional variable.
    pub fn optional(&self, name: &str) -> Option<String> {
        self.raw(name).map(str::to_owned)
    }

    /// A variable parsed into `T`, with a default.
    pub fn parse_or<T>(&self, name: &str, default: T) -> Result<T, EnvError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match self.raw(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|e: T::Err| EnvError::Invalid { name: name.to_owned(), reason: e.to_string() }),
        }
    }

    /// A variable parsed into `T`, with a default, that must lie in `range`.
    pub fn parse_range_or<T>(
        &self,
        name: &str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, EnvError>
    where
        T: FromStr + PartialOrd + std::fmt::Display,
        T::Err: std::fmt::Display,
    {
        let value = self.parse_or(name, default)?;
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(EnvError::Invalid {
                name: name.to_owned(),
                reason: format!("{value} is not between {} and {}", range.start(), range.end()),
            })
        }
    }

    /// An optional variable parsed into `T`.
    pub fn parse_optional<T>(&self, name: &str) -> Result<Option<T>, EnvError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        self.raw(name)
            .map(|raw| {
                raw.trim()
                    .parse()
                    .map_err(|e: T::Err| EnvError::Invalid { name: name.to_owned(), reason: e.to_string() })
            })
            .transpose()
    }

    /// A secret that must be set.
    pub fn secret(&self, name: &str, hint: &'static str) -> Result<SecretString, EnvError> {
        self.required(name, hint).map(SecretString::from)
    }

    /// A secret holding base64 (standard alphabet) of exactly `len` bytes.
    pub fn secret_bytes(&self, name: &str, len: usize, hint: &'static str) -> Result<Vec<u8>, EnvError> {
        let raw = self.required(name, hint)?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(raw.trim()).map_err(|_| {
            EnvError::Invalid { name: name.to_owned(), reason: "not valid base64".to_owned() }
        })?;
        if bytes.len() != len {
            return Err(EnvError::Invalid {
                name: name.to_owned(),
                reason: format!("must decode to {len} bytes, got {}", bytes.len()),
            });
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_variable() {
        let env = Env::from_pairs([("NATTER_PORT", "eighty"), ("NATTER_KEY", "c2hvcnQ=")]);
        let missing = env.required("NATTER_DATABASE_URL", "set it").unwrap_err().to_string();
        assert!(missing.contains("NATTER_DATABASE_URL"), "{missing}");
        let invalid = env.parse_or::<u16>("NATTER_PORT", 1).unwrap_err().to_string();
        assert!(invalid.contains("NATTER_PORT"), "{invalid}");
        let short = env.secret_bytes("NATTER_KEY", 32, "").unwrap_err().to_string();
        assert!(short.contains("NATTER_KEY") && short.contains("32 bytes"), "{short}");
        assert!(!short.contains("c2hvcnQ"), "the secret itself must not be echoed: {short}");
    }

    #[test]
    fn values_out_of_range_name_the_variable_and_the_range() {
        let env = Env::from_pairs([("NATTER_MS", "10")]);
        let error = env.parse_range_or("NATTER_MS", 500u64, 50..=60_000).unwrap_err().to_string();
        assert!(error.contains("NATTER_MS") && error.contains("between 50 and 60000"), "{error}");
        assert_eq!(env.parse_range_or("UNSET", 500u64, 50..=60_000).unwrap(), 500);
    }

    #[test]
    fn defaults_apply_to_unset_and_blank() {
        let env = Env::from_pairs([("BLANK", " ")]);
        assert_eq!(env.parse_or::<u16>("BLANK", 7).unwrap(), 7);
        assert_eq!(env.or("UNSET", "x"), "x");
    }
}
