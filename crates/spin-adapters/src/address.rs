//! [`Address`]: where a connection goes, read from a Spin variable on first use.

use std::cell::OnceCell;

use spindle_ports::Config;

use crate::SpinConfig;

/// The server address a Spin variable holds, read when a connection is first
/// opened. A variable read is a host call costing about as much as a third of a
/// bare request, so a request that never connects (a 401, a list that publishes
/// nothing) never pays for it.
pub(crate) struct Address {
    variable: &'static str,
    value: OnceCell<String>,
}

impl Address {
    pub(crate) fn from_variable(variable: &'static str) -> Address {
        Address {
            variable,
            value: OnceCell::new(),
        }
    }

    /// The variable's value; empty when it is not set, which opening reports as
    /// an invalid address.
    pub(crate) fn get(&self) -> &str {
        self.value
            .get_or_init(|| SpinConfig.get(self.variable).unwrap_or_default())
    }
}
