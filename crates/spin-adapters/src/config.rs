//! [`SpinConfig`]: the [`Config`] port over Spin variables.

use spindle_ports::Config;

/// Reads Spin variables (`[variables]` in `spin.toml`, set locally from
/// `SPIN_VARIABLE_*` and on the cluster from Secrets).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpinConfig;

impl Config for SpinConfig {
    /// The variable's value; `None` when it is empty or not set. A name the manifest
    /// does not declare (or that is not lowercase snake_case, as Spin requires) is also
    /// `None`: the caller reports the setting as missing, which is what to fix.
    fn get(&self, name: &str) -> Option<String> {
        spin_sdk::variables::get(name)
            .ok()
            .filter(|value| !value.is_empty())
    }
}
