//! [`MapConfig`]: a [`Config`] built in code, standing in for Spin variables
//! in tests, benchmarks and tools.

use std::collections::HashMap;

use crate::Config;

/// Named values in a map. As with Spin variables, an empty value counts as unset, so a
/// test can blank out a variable the same way a deploy does (`SPIN_VARIABLE_X=`).
#[derive(Debug, Clone, Default)]
pub struct MapConfig {
    values: HashMap<String, String>,
}

impl MapConfig {
    pub fn new() -> MapConfig {
        MapConfig::default()
    }

    /// A configuration with each `(name, value)` set.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> MapConfig {
        pairs
            .iter()
            .fold(MapConfig::new(), |config, (name, value)| {
                config.with(*name, *value)
            })
    }

    /// This configuration with `name` set to `value` (replacing an earlier value).
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> MapConfig {
        self.values.insert(name.into(), value.into());
        self
    }
}

impl Config for MapConfig {
    fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_value_counts_as_unset() {
        let config = MapConfig::new()
            .with("db_url", "")
            .with("jwt_secret", "s3cret");
        assert_eq!(config.get("db_url"), None);
        assert_eq!(config.get("missing"), None);
        assert_eq!(config.get("jwt_secret").as_deref(), Some("s3cret"));
    }
}
